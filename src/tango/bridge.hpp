// The inside of concert::tango, shared by its sources: a device's state, the reply poller that
// completes every device's asynchronous calls, the requests it completes, and the forwarding of
// change events.
#pragma once

#include <tango.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <concert/tango.hpp>

namespace concert::tango::detail {

// Tango 9.3.4 keeps per-thread state through omni_thread: a thread that is not an omni_thread
// (any std::thread, the program's main thread) must have an omni_thread identity while it calls
// Tango. Made at every entry point of the bridge: a thread gets an identity kept until it ends (so
// that the calls after the first cost one thread-specific read); during the thread's end, once
// that identity is gone (static destructors at exit), one for the scope only.
class tango_thread_scope {
  public:
    tango_thread_scope();
    tango_thread_scope(const tango_thread_scope&) = delete;
    tango_thread_scope& operator=(const tango_thread_scope&) = delete;

  private:
    std::optional<omni_thread::ensure_self> for_this_scope_;
};

// The exception being handled, as the bridge hands failures on: a Tango::DevFailed (or another
// CORBA exception, which does not derive from std::exception either) becomes a
// concert::tango::error; anything else stays as it is. Call it inside a catch block only.
std::exception_ptr current_failure() noexcept;

// Settles `c` with `failure`, or else from `r`; an exception converting the reply fails it
// instead. Never throws: a failure that cannot be published goes to concert::report_error.
void settle(call& c, const std::exception_ptr& failure, reply r) noexcept;

class reply_poller;

// A concert::tango::device's state. The device owns it; a change forwarding only refers to it
// (weakly), so that a subscription outliving its device does nothing rather than use a closed
// connection.
struct device_state {
    explicit device_state(const std::string& address);
    // Closes the connection first, then frees the forwardings' callbacks: Tango 9.3.4 releases its
    // lock before calling an event callback, so a callback just unsubscribed may still be called;
    // keeping every one of them until the proxy is gone closes that window.
    ~device_state();
    device_state(const device_state&) = delete;
    device_state& operator=(const device_state&) = delete;

    // A call counts from before its request is sent until Tango is done with its reply, so that
    // the proxy outlives Tango's bookkeeping of every request on it.
    void call_started();
    void call_finished() noexcept;
    void wait_for_calls() noexcept;

    std::unique_ptr<Tango::DeviceProxy> proxy;
    // Held to issue a request on the proxy and to dispatch its reply, never while waiting for
    // one: a DeviceProxy's asynchronous bookkeeping is not meant for several threads at once.
    std::mutex proxy_mutex;
    std::shared_ptr<reply_poller> poller;

    std::mutex calls_mutex;
    std::condition_variable calls_done;
    std::size_t calls_in_flight = 0;  // guarded by calls_mutex

    std::mutex forwardings_mutex;
    std::vector<std::shared_ptr<change_forwarding>> forwardings;  // guarded by forwardings_mutex
};

// One asynchronous request: the Tango callback its reply fires, which keeps the reply until the
// poller settles the call with it (outside every lock). Owned by Tango's table of requests from
// sending until the poller takes it back.
class pending_request final : public Tango::CallBack {
  public:
    pending_request(device_state& device, std::unique_ptr<call> c)
        : device_(device), call_(std::move(c)) {}

    void cmd_ended(Tango::CmdDoneEvent* event) override;
    void attr_read(Tango::AttrReadEvent* event) override;
    void attr_written(Tango::AttrWrittenEvent* event) override;

    // A failure found by the bridge itself (sending, or dispatching the reply).
    void record_failure(std::exception_ptr failure) noexcept { failure_ = std::move(failure); }
    // Completes the future from what was recorded. Never throws.
    void settle() noexcept;
    device_state& device() const noexcept { return device_; }

  private:
    void record_errors(const Tango::DevErrorList& errors);

    device_state& device_;
    std::unique_ptr<call> call_;
    std::optional<Tango::DeviceData> data_;
    std::optional<Tango::DeviceAttribute> attribute_;
    std::exception_ptr failure_;
};

// The one thread that receives the replies of every device's asynchronous calls: it blocks in the
// ORB until any reply arrives, fires its callback as Tango's ApiUtil::get_asynch_replies would
// (one reply at a time, under the device's proxy lock, without walking Tango's table of requests
// unlocked), then settles the call outside every lock. It blocks in the ORB only while some reply
// is due, and runs for as long as some device exists: the last device's destruction joins it.
class reply_poller {
  public:
    // The poller of the devices alive, made when the first one is. Thread-safe.
    static std::shared_ptr<reply_poller> shared();

    reply_poller() = default;
    ~reply_poller();
    reply_poller(const reply_poller&) = delete;
    reply_poller& operator=(const reply_poller&) = delete;

    // A request was sent whose reply the poller is to dispatch; starts the thread on first use.
    // Throws std::system_error when no thread can be started.
    void expect_reply();

  private:
    void run() noexcept;
    void dispatch(CORBA::Request_ptr request) noexcept;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::int64_t replies_due_ = 0;  // may dip below 0 while a sender has yet to count its request
    // Requests counted, ever (written under mutex_): the poller waits for a change of it, and
    // spins reading it before it sleeps.
    std::atomic<std::uint64_t> sent_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

// The forwarding of one attribute's change events: the Tango event callback. Its events go to
// the dispatcher while it is active; end() stops them.
struct change_forwarding final : Tango::CallBack {
    change_forwarding(const std::shared_ptr<device_state>& device, std::string attribute,
                      Dispatcher& dispatcher, const void* sender, change_sender send)
        : device(device),
          attribute(std::move(attribute)),
          error_message(this->attribute + ".error"),
          dispatcher(dispatcher),
          sender(sender),
          send(send) {}

    void push_event(Tango::EventData* event) override;

    // Stops forwarding (once it returns, no event of it is sent any more) and unsubscribes from
    // Tango. Throws concert::tango::error when Tango fails to unsubscribe. Idempotent.
    void end();
    bool active() const noexcept;

    // Held while an event is sent and to stop: recursive, so that a handler run inline (async
    // disabled) may end the forwarding that delivers to it. Never held while calling Tango, whose
    // event thread may be waiting to deliver to this callback.
    mutable std::recursive_mutex mutex;
    std::weak_ptr<device_state> device;
    bool forwarding = true;  // guarded by mutex
    int event_id = -1;       // guarded by mutex; set once Tango's subscribe_event returns
    // Guarded by mutex: what the last event forwarded was (the source timestamp of a value, or an
    // error stack), to drop Tango 9.3.4's repeat of it.
    std::optional<Tango::TimeVal> last_time;
    std::optional<Tango::DevErrorList> last_errors;
    const std::string attribute;
    const std::string error_message;
    Dispatcher& dispatcher;
    const void* const sender;
    const change_sender send;
};

}  // namespace concert::tango::detail
