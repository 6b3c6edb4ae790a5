// concert::tango: devices of Tango Controls device servers, possibly on other hosts, as concert
// futures and dispatcher messages. Commands and attribute reads and writes return concert::futures
// completed by Tango's asynchronous replies; change events of an attribute become messages with
// values. Built with the CMake option CONCERT_WITH_TANGO; link concert::tango. It includes
// <tango.h>, and with it Tango's `using namespace std` at global scope.
#pragma once

#include <tango.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <concert/export.hpp>
#include "detail/tango_calls.hpp"
#include "dispatcher.hpp"
#include "future.hpp"

namespace concert {

/// The Tango Controls bridge: concert::tango::device, its errors, and the subscriptions that turn
/// change events into messages.
namespace tango {

/// One entry of a Tango error stack (a Tango::DevError), in plain strings.
struct error_entry {
    std::string reason;       ///< What failed, as a Tango error name ("API_CommandNotFound").
    std::string description;  ///< The error's explanation.
    std::string origin;       ///< Where it was raised (a Tango method, or the device's code).
    Tango::ErrSeverity severity = Tango::ERR;  ///< WARN, ERR or PANIC.
};

/// A Tango error (Tango::DevFailed, which does not derive from std::exception) as a
/// std::runtime_error. reason(), description() and where() are those of the first entry of the
/// stack, where the failure began (a device's own error, before the layers Tango adds on its way
/// to the client); stack() has them all. what() is "reason: description". Copies share the stack:
/// copying never throws. Thread-safe to read from any number of threads.
class CONCERT_API error : public std::runtime_error {
  public:
    /// The error of a Tango::DevFailed. Throws only std::bad_alloc.
    explicit error(const Tango::DevFailed& failure);
    /// The error of a Tango error stack. An empty stack gives empty reason, description and where,
    /// and a what() saying so. Throws only std::bad_alloc.
    explicit error(const Tango::DevErrorList& errors);
    /// The error of a stack of one entry: for failures the bridge finds itself. Throws only
    /// std::bad_alloc.
    error(std::string reason, std::string description, std::string origin);

    /// The first entry's reason: "API_CommandNotFound", "API_AttrNotFound", a device's own. Never
    /// throws.
    const std::string& reason() const noexcept;
    /// The first entry's description. Never throws.
    const std::string& description() const noexcept;
    /// The first entry's origin: where the failure was raised. Never throws.
    const std::string& where() const noexcept;
    /// Every entry, first the one where the failure began. Never throws.
    const std::vector<error_entry>& stack() const noexcept;

  private:
    explicit error(std::shared_ptr<const std::vector<error_entry>> stack);
    std::shared_ptr<const std::vector<error_entry>> stack_;
};

/// Owns the forwarding of one attribute's change events to a dispatcher (see
/// device::forward_changes) and ends it on destruction, like concert::scoped_subscription for
/// messages. Move-only. Not thread-safe: one thread at a time uses one change_subscription (the
/// events it forwards arrive on Tango's threads meanwhile).
class CONCERT_API change_subscription {
  public:
    /// Forwards nothing: active() is false. Never throws.
    change_subscription() noexcept = default;
    /// Ends the forwarding as unsubscribe() does; an error unsubscribing goes to
    /// concert::report_error instead of being thrown. Never throws.
    ~change_subscription();
    /// Takes over `other`'s forwarding, leaving `other` with none. Never throws.
    change_subscription(change_subscription&& other) noexcept = default;
    /// Ends this one's forwarding (reporting an error as the destructor does), then takes over
    /// `other`'s. Never throws.
    change_subscription& operator=(change_subscription&& other) noexcept;
    /// Not copyable: one owner per forwarding.
    change_subscription(const change_subscription&) = delete;
    /// Not copyable: one owner per forwarding.
    change_subscription& operator=(const change_subscription&) = delete;

    /// True from forward_changes until unsubscribe() (or the device's destruction, which ends its
    /// forwardings). Never throws.
    bool active() const noexcept;

    /// Ends the forwarding: once it returns, no further event of it is sent to the dispatcher
    /// (messages already sent are still delivered). Does nothing when not active. Throws
    /// concert::tango::error when Tango fails to unsubscribe; the forwarding has ended anyway.
    void unsubscribe();

  private:
    friend class device;
    explicit change_subscription(std::shared_ptr<detail::change_forwarding> forwarding) noexcept
        : forwarding_(std::move(forwarding)) {}

    std::shared_ptr<detail::change_forwarding> forwarding_;
};

/// A Tango device, reached through its address. Every call returns at once with a concert::future
/// that Tango's reply completes; no thread waits for it meanwhile (one thread of the library
/// receives the replies of every device). With async disabled (concert::DISABLE) each call is
/// made synchronously instead, and returns a finished future.
///
/// Not copyable or movable: its address is the sender of the messages it forwards. Thread-safe:
/// any number of threads may call its members at once.
class CONCERT_API device {
  public:
    /// Connects to the device at `address`, for example
    /// "tango://127.0.0.1:10000/sys/tg_test/1#dbase=no" (no database) or "sys/tg_test/1"
    /// (through the database of TANGO_HOST), and pings it. Throws concert::tango::error when the
    /// address is malformed or the device does not answer.
    explicit device(const std::string& address);

    /// Ends the device's change forwardings, then waits for the replies of its calls still in
    /// flight, abandoned ones included (each arrives within the device's Tango timeout, 3 s by
    /// default), so that Tango is done with the connection before it is closed. Never throws.
    ~device();

    /// Not copyable: the device's address identifies it as a sender.
    device(const device&) = delete;
    /// Not copyable: the device's address identifies it as a sender.
    device& operator=(const device&) = delete;

    /// The address given to the constructor. Never throws.
    const std::string& address() const noexcept;

    /// Runs the command `name` with `arguments` (none, one value, a Tango::DeviceData, or two
    /// values that Tango::DeviceData::insert combines) and returns the future of its output as R:
    /// nothing for void, the Tango::DeviceData itself by default. The future throws
    /// concert::tango::error when the command fails (reason "API_CommandNotFound" for an unknown
    /// command) or its output is not an R (reason "API_IncompatibleCmdArgumentType"), and
    /// concert::cancelled once cancelled: the reply is then dropped when it comes. Throws what
    /// converting the arguments throws. Thread-safe.
    template <class R = Tango::DeviceData, class... Args>
    future<R> command(std::string_view name, Args&&... arguments) {
        auto call = std::make_unique<detail::command_call<R>>();
        auto result = call->get_future();
        auto input = detail::make_argument(std::forward<Args>(arguments)...);
        issue_command(name, input, std::move(call));
        return result;
    }

    /// Reads the attribute `name` and returns the future of its value as T (or the
    /// Tango::DeviceAttribute itself). The future throws concert::tango::error when the read fails
    /// (reason "API_AttrNotFound" for an unknown attribute) or the value is not a T (reason
    /// "API_IncompatibleAttrArgumentType"), and concert::cancelled once cancelled. Thread-safe.
    template <class T>
    future<T> read(std::string_view name) {
        auto call = std::make_unique<detail::read_call<T>>();
        auto result = call->get_future();
        issue_read(name, std::move(call));
        return result;
    }

    /// Writes `value` to the attribute `name` and returns the future of the write. The future
    /// throws concert::tango::error when Tango or the device refuses it, and concert::cancelled
    /// once cancelled. Throws what converting the value throws. Thread-safe.
    template <class V>
    future<void> write(std::string_view name, V&& value) {
        auto call = std::make_unique<detail::write_call>();
        auto result = call->get_future();
        auto attribute = detail::make_attribute(name, std::forward<V>(value));
        issue_write(attribute, std::move(call));
        return result;
    }

    /// Subscribes to the change events of the attribute `name`, and sends each to `dispatcher` as
    /// a message from this device named `name` with the value as T; an event reporting an error,
    /// or a value that is not a T, is sent as "<name>.error" with a concert::tango::error. The
    /// current value is sent at once, on the calling thread; later events come from Tango's event
    /// thread. Tango 9.3.4 delivers the first event after a subscription twice: an event that
    /// repeats the one forwarded just before it (a value with the same source timestamp, or the
    /// same error stack) is that event again, and is not sent.
    /// Keep the returned subscription until the forwarding is no longer wanted; destroying the
    /// device ends it too. Throws concert::tango::error when Tango refuses the subscription (an
    /// unknown attribute, one without change events). Thread-safe.
    template <class T>
    change_subscription forward_changes(std::string_view name,
                                        Dispatcher& dispatcher = concert::dispatcher) {
        return subscribe_changes(name, dispatcher, &detail::send_change<T>);
    }

  private:
    void issue_command(std::string_view name, Tango::DeviceData& input,
                       std::unique_ptr<detail::call> call);
    void issue_read(std::string_view name, std::unique_ptr<detail::call> call);
    void issue_write(Tango::DeviceAttribute& value, std::unique_ptr<detail::call> call);
    change_subscription subscribe_changes(std::string_view name, Dispatcher& dispatcher,
                                          detail::change_sender send);

    std::string address_;
    std::shared_ptr<detail::device_state> state_;
};

}  // namespace tango
}  // namespace concert
