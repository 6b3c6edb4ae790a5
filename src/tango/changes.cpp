// Change events as dispatcher messages: device::forward_changes and the change_subscription that
// ends the forwarding.
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
    if (state == nullptr || id < 0) {
        return;
    }
    ensure_omni_thread();
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
    detail::ensure_omni_thread();
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
    return change_subscription(std::move(forwarding));
}

}  // namespace concert::tango
