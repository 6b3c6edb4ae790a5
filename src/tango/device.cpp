// concert::tango::device: connecting, issuing calls (asynchronously, or synchronously with async
// disabled) and the device's end.
#include <concert/blocking.hpp>
#include <concert/disable.hpp>
#include <concert/errors.hpp>

#include "bridge.hpp"

namespace concert::tango {

namespace detail {

namespace {

// Set by the thread's lasting identity as it goes: trivially destructible, so readable to the end.
thread_local bool lasting_identity_gone = false;

struct lasting_identity {
    omni_thread::ensure_self identity;
    lasting_identity() = default;
    lasting_identity(const lasting_identity&) = delete;
    lasting_identity& operator=(const lasting_identity&) = delete;
    ~lasting_identity() { lasting_identity_gone = true; }
};

}  // namespace

tango_thread_scope::tango_thread_scope() {
    if (omni_thread::self() != nullptr) {
        return;  // an omni_thread, or a thread given its identity before
    }
    if (!lasting_identity_gone) {
        thread_local const lasting_identity identity;
        static_cast<void>(identity);
        return;
    }
    for_this_scope_.emplace();
}

void settle(call& c, const std::exception_ptr& failure, reply r) noexcept {
    std::exception_ptr outcome = failure;
    if (!outcome) {
        try {
            if (!c.abandoned()) {
                c.complete(r);
            }
            return;
        } catch (...) {
            outcome = current_failure();
        }
    }
    try {
        c.fail(outcome);
    } catch (...) {
        report_error(std::current_exception(), "a concert::tango call's completion");
    }
}

device_state::device_state(const std::string& address) {
    // Tango's PUSH_CALLBACK model would have its own thread take the replies the poller waits for.
    if (Tango::ApiUtil::instance()->get_asynch_cb_sub_model() == Tango::PUSH_CALLBACK) {
        throw error("concert_PushCallbackModel",
                    "concert::tango receives asynchronous replies itself: switch Tango's "
                    "callback model back to PULL_CALLBACK",
                    "concert::tango::device");
    }
    try {
        std::string name = address;  // Tango takes it by non-const reference
        proxy = std::make_unique<Tango::DeviceProxy>(name);
        proxy->ping();
    } catch (...) {
        std::rethrow_exception(current_failure());
    }
    poller = reply_poller::shared();
}

device_state::~device_state() {
    try {
        proxy.reset();
    } catch (...) {
        report_error(current_failure(), "closing a concert::tango::device");
    }
}

void device_state::call_started() {
    const std::lock_guard lock(calls_mutex);
    ++calls_in_flight;
}

void device_state::call_finished() noexcept {
    // Notified under the lock: the device's destruction may free the condition as soon as it can
    // take the lock and see no call.
    const std::lock_guard lock(calls_mutex);
    if (--calls_in_flight == 0) {
        calls_done.notify_all();
    }
}

void device_state::wait_for_calls() noexcept {
    const blocking_scope blocking;
    std::unique_lock lock(calls_mutex);
    calls_done.wait(lock, [this] { return calls_in_flight == 0; });
}

}  // namespace detail

namespace {

// Sends a request with `send(proxy, callback)`; the poller settles the call with its reply. A
// failure to send settles the call with it at once.
template <class Send>
void issue_asynchronously(detail::device_state& state, std::unique_ptr<detail::call> c, Send send) {
    auto request = std::make_unique<detail::pending_request>(state, std::move(c));
    state.call_started();
    try {
        const std::lock_guard lock(state.proxy_mutex);
        send(*state.proxy, *request);
    } catch (...) {
        request->record_failure(detail::current_failure());
        request->settle();
        state.call_finished();
        return;
    }
    // Tango's table of requests holds it now; the poller deletes it once it has dispatched the
    // reply (which may be before expect_reply is called).
    static_cast<void>(request.release());
    state.poller->expect_reply();
}

// With async disabled: `run(proxy)` makes the call synchronously, and returns what it returns.
template <class Run>
void run_synchronously(detail::device_state& state, detail::call& c, Run run) {
    const blocking_scope blocking;
    try {
        auto output = run(*state.proxy);
        detail::reply r;
        if constexpr (std::is_same_v<decltype(output), Tango::DeviceData>) {
            r.data = &output;
        } else if constexpr (std::is_same_v<decltype(output), Tango::DeviceAttribute>) {
            r.attribute = &output;
        }
        detail::settle(c, nullptr, r);
    } catch (...) {
        detail::settle(c, detail::current_failure(), {});
    }
}

}  // namespace

device::device(const std::string& address) : address_(address) {
    const detail::tango_thread_scope tango_thread;
    state_ = std::make_shared<detail::device_state>(address);
}

device::~device() {
    const detail::tango_thread_scope tango_thread;
    std::vector<std::shared_ptr<detail::change_forwarding>> forwardings;
    {
        const std::lock_guard lock(state_->forwardings_mutex);
        forwardings = state_->forwardings;
    }
    for (const auto& forwarding : forwardings) {
        try {
            forwarding->end();
        } catch (...) {
            report_error(std::current_exception(), "ending a concert::tango::device's forwarding");
        }
    }
    state_->wait_for_calls();
}

const std::string& device::address() const noexcept {
    return address_;
}

void device::issue_command(std::string_view name, Tango::DeviceData& input,
                           std::unique_ptr<detail::call> c) {
    const detail::tango_thread_scope tango_thread;
    std::string command(name);
    if (async_disabled()) {
        run_synchronously(*state_, *c, [&](Tango::DeviceProxy& proxy) {
            return proxy.command_inout(command, input);
        });
        return;
    }
    issue_asynchronously(*state_, std::move(c),
                         [&](Tango::DeviceProxy& proxy, Tango::CallBack& callback) {
                             proxy.command_inout_asynch(command, input, callback);
                         });
}

void device::issue_read(std::string_view name, std::unique_ptr<detail::call> c) {
    const detail::tango_thread_scope tango_thread;
    std::string attribute(name);
    if (async_disabled()) {
        run_synchronously(*state_, *c, [&](Tango::DeviceProxy& proxy) {
            return proxy.read_attribute(attribute);
        });
        return;
    }
    issue_asynchronously(*state_, std::move(c),
                         [&](Tango::DeviceProxy& proxy, Tango::CallBack& callback) {
                             proxy.read_attribute_asynch(attribute, callback);
                         });
}

void device::issue_write(Tango::DeviceAttribute& value, std::unique_ptr<detail::call> c) {
    const detail::tango_thread_scope tango_thread;
    if (async_disabled()) {
        run_synchronously(*state_, *c, [&](Tango::DeviceProxy& proxy) {
            proxy.write_attribute(value);
            return true;  // no output
        });
        return;
    }
    issue_asynchronously(*state_, std::move(c),
                         [&](Tango::DeviceProxy& proxy, Tango::CallBack& callback) {
                             proxy.write_attribute_asynch(value, callback);
                         });
}

}  // namespace concert::tango
