// Change events as dispatcher messages: device::forward_changes and the change_subscription that
// ends the forwarding.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include <concert/errors.hpp>

#include "bridge.hpp"

namespace concert::tango {

namespace detail {

namespace {

bool same_time(const Tango::TimeVal& a, const Tango::TimeVal& b) noexcept {
    return a.tv_sec == b.tv_sec && a.tv_usec == b.tv_usec && a.tv_nsec == b.tv_nsec;
}

bool same_errors(const Tango::DevErrorList& a, const Tango::DevErrorList& b) noexcept {
    if (a.length() != b.length()) {
        return false;
    }
    for (CORBA::ULong i = 0; i < a.length(); ++i) {
        if (std::strcmp(a[i].reason.in(), b[i].reason.in()) != 0 ||
            std::strcmp(a[i].desc.in(), b[i].desc.in()) != 0 ||
            std::strcmp(a[i].origin.in(), b[i].origin.in()) != 0) {
            return false;
        }
    }
    return true;
}

// Tango shuts its event system down at exit, in an exit handler it installs as the first
// subscription is made; unsubscribing afterwards (a subscription destroyed with the program's
// statics) would wait forever for its event thread. So the bridge installs its own handler after
// that first subscription, which runs before Tango's: it ends the forwardings still active, and
// any ended later no longer calls Tango.
struct active_forwardings {
    std::mutex mutex;
    std::vector<std::weak_ptr<change_forwarding>> forwardings;  // guarded by mutex
    bool exit_handler_installed = false;                        // guarded by mutex
    std::atomic<bool> events_closed{false};
};

// Never destroyed: forwardings may end during static destruction.
active_forwardings& tracked() {
    static auto& instance = *new active_forwardings;
    return instance;
}

void end_forwardings_at_exit() noexcept {
    std::vector<std::shared_ptr<change_forwarding>> ending;
    {
        const std::lock_guard lock(tracked().mutex);
        for (const auto& forwarding : tracked().forwardings) {
            if (auto alive = forwarding.lock()) {
                ending.push_back(std::move(alive));
            }
        }
        tracked().forwardings.clear();
    }
    for (const auto& forwarding : ending) {
        try {
            forwarding->end();
        } catch (...) {
            report_error(current_failure(), "ending a Tango change forwarding at exit");
        }
    }
    tracked().events_closed = true;
}

// Called once Tango has accepted the subscription: Tango's exit handler exists by then.
void track(const std::shared_ptr<change_forwarding>& forwarding) {
    const std::lock_guard lock(tracked().mutex);
    auto& all = tracked().forwardings;
    std::erase_if(all, [](const auto& f) { return f.expired(); });
    all.push_back(forwarding);
    if (!tracked().exit_handler_installed) {
        // Only if it cannot be installed (out of atexit slots) is the exit left to Tango alone.
        tracked().exit_handler_installed = std::atexit(end_forwardings_at_exit) == 0;
    }
}

}  // namespace

void change_forwarding::push_event(Tango::EventData* event) {
    const std::lock_guard lock(mutex);
    if (!forwarding) {
        return;
    }
    try {
        if (event->err || event->attr_value == nullptr) {
            if (last_errors && same_errors(*last_errors, event->errors)) {
                return;  // Tango 9.3.4's repeat of the first event after subscribing
            }
            last_errors = event->errors;
            last_time.reset();
            dispatcher.send(sender, error_message, error(event->errors));
            return;
        }
        Tango::DeviceAttribute& value = *event->attr_value;
        if (last_time && same_time(*last_time, value.time)) {
            return;  // as above
        }
        last_time = value.time;
        last_errors.reset();
        try {
            send(dispatcher, sender, attribute, value);
        } catch (const Tango::DevFailed& failure) {
            dispatcher.send(sender, error_message, error(failure));  // not a T
        }
    } catch (...) {
        report_error(current_failure(), "forwarding a Tango change event");
    }
}

bool change_forwarding::active() const noexcept {
    const std::lock_guard lock(mutex);
    return forwarding;
}

void change_forwarding::end() {
    int id = -1;
    {
        // Waits for an event being sent: none is sent once this is released.
        const std::lock_guard lock(mutex);
        if (!forwarding) {
            return;
        }
        forwarding = false;
        id = event_id;
    }
    const auto state = device.lock();
    if (state == nullptr || id < 0 || tracked().events_closed) {
        return;
    }
    const tango_thread_scope tango_thread;
    try {
        state->proxy->unsubscribe_event(id);
    } catch (...) {
        std::rethrow_exception(current_failure());
    }
}

}  // namespace detail

change_subscription::~change_subscription() {
    try {
        unsubscribe();
    } catch (...) {
        report_error(std::current_exception(), "concert::tango::change_subscription's destructor");
    }
}

change_subscription& change_subscription::operator=(change_subscription&& other) noexcept {
    if (this != &other) {
        try {
            unsubscribe();
        } catch (...) {
            report_error(std::current_exception(), "concert::tango::change_subscription's move");
        }
        forwarding_ = std::move(other.forwarding_);
    }
    return *this;
}

bool change_subscription::active() const noexcept {
    return forwarding_ != nullptr && forwarding_->active();
}

void change_subscription::unsubscribe() {
    if (forwarding_ != nullptr) {
        const auto forwarding = std::move(forwarding_);
        forwarding->end();
    }
}

change_subscription device::subscribe_changes(std::string_view name, Dispatcher& dispatcher,
                                              detail::change_sender send) {
    const detail::tango_thread_scope tango_thread;
    auto forwarding = std::make_shared<detail::change_forwarding>(state_, std::string(name),
                                                                  dispatcher, this, send);
    {
        // Kept until the device is destroyed: see ~device_state.
        const std::lock_guard lock(state_->forwardings_mutex);
        state_->forwardings.push_back(forwarding);
    }
    int id = -1;
    try {
        // Sends the current value from this thread before it returns.
        id = state_->proxy->subscribe_event(forwarding->attribute, Tango::CHANGE_EVENT,
                                            forwarding.get());
    } catch (...) {
        const std::lock_guard lock(forwarding->mutex);
        forwarding->forwarding = false;
        std::rethrow_exception(detail::current_failure());
    }
    {
        const std::lock_guard lock(forwarding->mutex);
        forwarding->event_id = id;
    }
    detail::track(forwarding);
    return change_subscription(std::move(forwarding));
}

}  // namespace concert::tango
