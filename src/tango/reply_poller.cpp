// The reply poller: the one thread that receives every device's asynchronous replies, and the
// requests whose callbacks they fire.
#include <chrono>

#include <concert/detail/spin.hpp>
#include <concert/errors.hpp>

#include "bridge.hpp"

namespace concert::tango::detail {

namespace {

// How long the poller, out of replies to wait for, watches for a new request before it sleeps: a
// caller making one call at a time sends the next within microseconds of the last reply, and
// catching it spares that caller a system call and the poller a wake-up (20 us or more here).
constexpr auto idle_spin = std::chrono::microseconds(50);

}  // namespace

void pending_request::record_errors(const Tango::DevErrorList& errors) {
    failure_ = std::make_exception_ptr(error(errors));
}

void pending_request::cmd_ended(Tango::CmdDoneEvent* event) {
    if (event->err) {
        record_errors(event->errors);
    } else {
        data_.emplace(std::move(event->argout));
    }
}

void pending_request::attr_read(Tango::AttrReadEvent* event) {
    // The callback owns the attributes read.
    const std::unique_ptr<std::vector<Tango::DeviceAttribute>> attributes(event->argout);
    if (event->err) {
        record_errors(event->errors);
    } else if (attributes == nullptr || attributes->empty()) {
        failure_ = std::make_exception_ptr(error("API_EmptyDeviceAttribute",
                                                 "Tango's reply to a read carried no attribute",
                                                 "concert::tango::device::read"));
    } else {
        attribute_.emplace(std::move(attributes->front()));
    }
}

void pending_request::attr_written(Tango::AttrWrittenEvent* event) {
    // The attribute's own errors (which Tango's `err` does not count: it is set for a failed call
    // only), or else those of the call.
    const auto& failures = event->errors.err_list;
    if (!failures.empty()) {
        record_errors(failures.front().err_stack);
    } else if (event->err) {
        record_errors(event->errors.errors);
    }
}

void pending_request::settle() noexcept {
    reply r;
    if (data_) {
        r.data = &*data_;
    }
    if (attribute_) {
        r.attribute = &*attribute_;
    }
    detail::settle(*call_, failure_, r);
}

std::shared_ptr<reply_poller> reply_poller::shared() {
    struct registry {
        std::mutex mutex;
        std::weak_ptr<reply_poller> current;
    };
    // Never destroyed: a device may be made or destroyed during static destruction.
    static auto& instance = *new registry;
    const std::lock_guard lock(instance.mutex);
    auto poller = instance.current.lock();
    if (poller == nullptr) {
        poller = std::make_shared<reply_poller>();
        instance.current = poller;
    }
    return poller;
}

reply_poller::~reply_poller() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (!thread_.joinable()) {
        return;
    }
    // The last device may be destroyed by code the poller runs (a continuation run inline): the
    // thread then finishes on its own, having nothing left to wait for.
    if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();
    } else {
        thread_.join();
    }
}

void reply_poller::expect_reply() {
    {
        const std::lock_guard lock(mutex_);
        ++replies_due_;
        ++sent_;
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { run(); });
        }
    }
    wake_.notify_one();
}

void reply_poller::run() noexcept {
    const tango_thread_scope tango_thread;
    CORBA::ORB_var orb;
    try {
        orb = Tango::ApiUtil::instance()->get_orb();
    } catch (...) {
        report_error(current_failure(), "concert::tango's reply poller (no ORB)");
        return;
    }
    std::unique_lock lock(mutex_);
    for (;;) {
        if (replies_due_ <= 0 && !stopping_) {
            const auto seen = sent_.load(std::memory_order_relaxed);
            lock.unlock();
            concert::detail::spin_until(
                idle_spin, [&] { return sent_.load(std::memory_order_relaxed) != seen; });
            lock.lock();
        }
        wake_.wait(lock, [this] { return stopping_ || replies_due_ > 0; });
        if (replies_due_ <= 0) {
            return;  // stopping, and no reply is due
        }
        const auto sent_before = sent_.load(std::memory_order_relaxed);
        lock.unlock();
        CORBA::Request_ptr request = nullptr;
        bool received = false;
        try {
            orb->get_next_response(request);
            received = true;
        } catch (...) {
            // Tango's other consumers of callback replies (ApiUtil::get_asynch_replies, the
            // PUSH_CALLBACK thread) took the replies due: wait for the next request.
            report_error(current_failure(),
                         "concert::tango's reply poller (another consumer of Tango's "
                         "asynchronous callback replies took them)");
        }
        if (received) {
            dispatch(request);
        }
        lock.lock();
        if (received) {
            --replies_due_;
        } else {
            wake_.wait(lock, [&] {
                return stopping_ || sent_.load(std::memory_order_relaxed) != sent_before;
            });
        }
    }
}

void reply_poller::dispatch(CORBA::Request_ptr request) noexcept {
    Tango::AsynReq* table = Tango::ApiUtil::instance()->get_pasyn_table();
    Tango::Connection* connection = nullptr;
    Tango::CallBack* callback = nullptr;
    Tango::TgRequest::ReqType kind = Tango::TgRequest::CMD_INOUT;
    try {
        const Tango::TgRequest& found = table->get_request(request);
        connection = found.dev;
        callback = found.cb_ptr;
        kind = found.req_type;
    } catch (...) {
        report_error(current_failure(), "concert::tango's reply poller (an unknown reply)");
        return;
    }
    // Another user's callback request is fired too, as Tango would.
    auto* ours = dynamic_cast<pending_request*>(callback);
    {
        std::unique_lock<std::mutex> lock;
        if (ours != nullptr) {
            lock = std::unique_lock(ours->device().proxy_mutex);
        }
        try {
            switch (kind) {
                case Tango::TgRequest::CMD_INOUT:
                    connection->Cb_Cmd_Request(request, callback);
                    break;
                case Tango::TgRequest::READ_ATTR:
                    connection->Cb_ReadAttr_Request(request, callback);
                    break;
                case Tango::TgRequest::WRITE_ATTR:
                case Tango::TgRequest::WRITE_ATTR_SINGLE:
                    connection->Cb_WriteAttr_Request(request, callback);
                    break;
            }
        } catch (...) {
            if (ours != nullptr) {
                ours->record_failure(current_failure());
            } else {
                report_error(current_failure(), "a Tango callback fired by concert::tango");
            }
        }
        try {
            connection->dec_asynch_counter(Tango::CALL_BACK);
            table->remove_request(connection, request);  // releases the request
        } catch (...) {
            report_error(current_failure(), "concert::tango's reply poller (Tango's bookkeeping)");
        }
    }
    if (ours != nullptr) {
        device_state& device = ours->device();
        {
            const std::unique_ptr<pending_request> finished(ours);
            finished->settle();
        }
        device.call_finished();  // the last use of the device: it may be destroyed from here on
    }
}

}  // namespace concert::tango::detail
