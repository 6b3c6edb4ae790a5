// The typed ends of concert::tango's calls and change forwarding: what turns a Tango argument into
// a Tango::DeviceData, and a Tango reply or change event into a future's value or a message's
// value. Part of <concert/tango.hpp>.
#pragma once

#include <tango.h>

#include <exception>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../dispatcher.hpp"
#include "../future.hpp"
#include "../promise.hpp"

namespace concert::tango::detail {

// A reply as the library hands it to a call: the command's output, or the attribute read (null
// for the other kinds, and for a written attribute both are).
struct reply {
    Tango::DeviceData* data = nullptr;
    Tango::DeviceAttribute* attribute = nullptr;
};

// One remote call's future end. The library settles it once: complete() with the reply, or
// fail(); an exception complete() throws (a Tango::DevFailed from a conversion) fails it instead.
// Never called under a lock of the library's.
class call {
  public:
    call() = default;
    call(const call&) = delete;
    call& operator=(const call&) = delete;
    virtual ~call() = default;

    virtual void complete(reply& r) = 0;
    virtual void fail(std::exception_ptr error) = 0;
    // True once the future is settled already, by a cancel(): the reply is not worth converting.
    virtual bool abandoned() const = 0;
};

// Tango's extraction operators return false on a type mismatch unless asked to throw: these make
// a mismatch a Tango::DevFailed naming the types (API_IncompatibleCmdArgumentType and the like).
inline void throw_on_mismatch(Tango::DeviceData& data) {
    data.set_exceptions(Tango::DeviceData::isempty_flag);
    data.set_exceptions(Tango::DeviceData::wrongtype_flag);
}
inline void throw_on_mismatch(Tango::DeviceAttribute& attribute) {
    attribute.set_exceptions(Tango::DeviceAttribute::isempty_flag);
    attribute.set_exceptions(Tango::DeviceAttribute::wrongtype_flag);
    attribute.set_exceptions(Tango::DeviceAttribute::failed_flag);
    attribute.set_exceptions(Tango::DeviceAttribute::unknown_format_flag);
}

// The value of a command's output or of an attribute as T (the Tango object itself, moved, when T
// is its type). Throws Tango::DevFailed on a type mismatch or a failed attribute.
template <class T, class Tango_value>
T extract(Tango_value& source) {
    if constexpr (std::is_same_v<T, Tango_value>) {
        return std::move(source);
    } else {
        throw_on_mismatch(source);
        T value{};
        source >> value;
        return value;
    }
}

// Puts `value` into a Tango::DeviceData or Tango::DeviceAttribute: Tango's insertion operators take
// most types by non-const reference, so each goes in as a copy; text as a std::string.
template <class Target, class V>
void insert_value(Target& target, V&& value) {
    using W = std::remove_cvref_t<V>;
    if constexpr (std::is_pointer_v<std::decay_t<V>>) {
        target << static_cast<const char*>(value);
    } else if constexpr (std::is_convertible_v<const W&, std::string_view>) {
        std::string text{std::string_view(value)};
        target << text;
    } else {
        W copy(std::forward<V>(value));
        target << copy;
    }
}

// The Tango::DeviceData of a command's arguments: none; one value; a Tango::DeviceData as it is;
// or two, which Tango's DeviceData::insert combines (DevVarLongStringArray,
// DevVarDoubleStringArray).
template <class... Args>
Tango::DeviceData make_argument(Args&&... arguments) {
    static_assert(sizeof...(Args) <= 2,
                  "concert::tango::device::command takes at most two arguments (Tango commands "
                  "take one value; two make a DevVarLongStringArray or DevVarDoubleStringArray)");
    if constexpr (sizeof...(Args) == 1 &&
                  (std::is_same_v<std::remove_cvref_t<Args>, Tango::DeviceData> && ...)) {
        return Tango::DeviceData(std::forward<Args>(arguments)...);
    } else {
        Tango::DeviceData data;
        if constexpr (sizeof...(Args) == 1) {
            insert_value(data, std::forward<Args>(arguments)...);
        } else if constexpr (sizeof...(Args) == 2) {
            auto copies =
                std::tuple<std::remove_cvref_t<Args>...>(std::forward<Args>(arguments)...);
            data.insert(std::get<0>(copies), std::get<1>(copies));
        }
        return data;
    }
}

// An attribute's new value, as write_attribute takes it.
template <class V>
Tango::DeviceAttribute make_attribute(std::string_view name, V&& value) {
    Tango::DeviceAttribute attribute;
    std::string attribute_name(name);
    attribute.set_name(attribute_name);
    insert_value(attribute, std::forward<V>(value));
    return attribute;
}

// The common part of the calls: the promise and its settling.
template <class R>
class call_with_promise : public call {
  public:
    future<R> get_future() const { return promise_.get_future(); }
    void fail(std::exception_ptr error) override { promise_.try_set_exception(std::move(error)); }
    bool abandoned() const override { return promise_.settled(); }

  protected:
    promise<R> promise_;
};

// A command whose output is R (nothing for void; the Tango::DeviceData itself for it).
template <class R>
class command_call final : public call_with_promise<R> {
  public:
    void complete(reply& r) override {
        if constexpr (std::is_void_v<R>) {
            this->promise_.try_set_value();
        } else {
            this->promise_.try_set_value(extract<R>(*r.data));
        }
    }
};

// An attribute read as T.
template <class T>
class read_call final : public call_with_promise<T> {
  public:
    void complete(reply& r) override { this->promise_.try_set_value(extract<T>(*r.attribute)); }
};

// An attribute written.
class write_call final : public call_with_promise<void> {
  public:
    void complete(reply&) override { promise_.try_set_value(); }
};

// Sends one change event's value as T, from `sender`, named `message`. Throws Tango::DevFailed
// when the value is not a T.
using change_sender = void (*)(Dispatcher& dispatcher, const void* sender, std::string_view message,
                               Tango::DeviceAttribute& value);

template <class T>
void send_change(Dispatcher& dispatcher, const void* sender, std::string_view message,
                 Tango::DeviceAttribute& value) {
    dispatcher.send(sender, message, extract<T>(value));
}

struct device_state;
struct change_forwarding;

}  // namespace concert::tango::detail
