// concert::Dispatcher: Concert's messaging. Objects send (sender, message) pairs; handlers
// subscribed to them run on the dispatcher's delivery thread in send order. concert::dispatcher is
// the global one.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

#include <concert/export.hpp>

namespace concert {

class Dispatcher;

// Subscribes to a message whatever its sender: dispatcher.subscribe(concert::any_sender, "frame",
// h).
struct any_sender_t {
    explicit any_sender_t() = default;
};
inline constexpr any_sender_t any_sender{};

// Subscribes to every message of one sender: dispatcher.subscribe(&camera, concert::any_message,
// h).
struct any_message_t {
    explicit any_message_t() = default;
};
inline constexpr any_message_t any_message{};

namespace detail {

struct dispatcher_state;
struct subscriber;
union global_dispatcher_storage;

enum class subscription_kind { sender_and_message, any_sender, any_message };

// What the dispatcher stores: every handler is adapted to this signature.
using message_handler = std::function<void(const void* sender, std::string_view message)>;

// A handler is called with the sender (as the pointer type it was subscribed with) and, if it takes
// one, the message.
template <class F, class Sender>
concept handler_for = std::invocable<F&, Sender*> || std::invocable<F&, Sender*, std::string_view>;

template <class F>
inline constexpr bool is_std_function = false;
template <class Signature>
inline constexpr bool is_std_function<std::function<Signature>> = true;

// True for the handlers that can be empty: null (member) function pointers and empty
// std::functions.
template <class F>
bool is_null_handler(const F& handler) noexcept {
    if constexpr (std::is_pointer_v<F> || std::is_member_pointer_v<F> || is_std_function<F>) {
        return handler == nullptr;
    } else {
        return false;
    }
}

template <class Sender, class F>
message_handler adapt_handler(F&& handler) {
    using stored = std::decay_t<F>;
    if (is_null_handler(handler)) {
        throw std::invalid_argument("concert::Dispatcher::subscribe: the handler is null");
    }
    // The sender was given to subscribe as Sender*, and only that exact address is delivered to it.
    const auto as_sender = [](const void* sender) {
        return static_cast<Sender*>(const_cast<void*>(sender));
    };
    if constexpr (std::invocable<stored&, Sender*, std::string_view>) {
        return [h = stored(std::forward<F>(handler)), as_sender](const void* sender,
                                                                 std::string_view message) mutable {
            std::invoke(h, as_sender(sender), message);
        };
    } else {
        return [h = stored(std::forward<F>(handler)), as_sender](const void* sender,
                                                                 std::string_view) mutable {
            std::invoke(h, as_sender(sender));
        };
    }
}

}  // namespace detail

// A handle on one subscription: pass it to Dispatcher::unsubscribe. Copyable; it does not keep the
// handler alive.
class CONCERT_API subscription {
  public:
    subscription() noexcept = default;

    // True from subscribe until unsubscribe.
    bool active() const noexcept;

  private:
    friend class Dispatcher;
    friend class scoped_subscription;
    subscription(Dispatcher* owner, std::weak_ptr<detail::subscriber> node) noexcept
        : owner_(owner), node_(std::move(node)) {}

    Dispatcher* owner_ = nullptr;
    std::weak_ptr<detail::subscriber> node_;
};

// Owns a subscription and unsubscribes it on destruction (with unsubscribe's guarantee: once the
// destructor has returned, the handler is not running and never runs again).
class CONCERT_API scoped_subscription {
  public:
    scoped_subscription() noexcept = default;
    explicit scoped_subscription(subscription s) noexcept : subscription_(std::move(s)) {}
    ~scoped_subscription() { reset(); }

    scoped_subscription(scoped_subscription&& other) noexcept : subscription_(other.release()) {}
    scoped_subscription& operator=(scoped_subscription&& other) noexcept {
        if (this != &other) {
            reset();
            subscription_ = other.release();
        }
        return *this;
    }
    scoped_subscription(const scoped_subscription&) = delete;
    scoped_subscription& operator=(const scoped_subscription&) = delete;

    // Unsubscribes now.
    void reset() noexcept;

    // Gives up ownership: the subscription stays.
    subscription release() noexcept { return std::exchange(subscription_, {}); }

    const subscription& get() const noexcept { return subscription_; }

  private:
    subscription subscription_;
};

class CONCERT_API Dispatcher {
  public:
    // Constant-initialised and cheap: the queue and the delivery thread are created on first use,
    // so a dispatcher (like concert::dispatcher) may be used from any static initialiser.
    constexpr Dispatcher() noexcept = default;

    // Delivers every message already sent, then joins the delivery thread.
    ~Dispatcher();

    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    // Calls handler(sender) (or handler(sender, message)) for each `message` that `sender` sends.
    // The dispatcher keeps its own copy of `message`. A null handler is std::invalid_argument.
    template <class F>
    requires detail::handler_for<F, const void> subscription subscribe(const void* sender,
                                                                       std::string_view message,
                                                                       F&& handler) {
        return add(detail::subscription_kind::sender_and_message, sender, message,
                   detail::adapt_handler<const void>(std::forward<F>(handler)));
    }

    // Typed form: the handler receives the sender as the T* given here.
    template <class T, class F>
    requires(!std::is_void_v<T> && detail::handler_for<F, T>) subscription
        subscribe(T* sender, std::string_view message, F&& handler) {
        return add(detail::subscription_kind::sender_and_message, sender, message,
                   detail::adapt_handler<T>(std::forward<F>(handler)));
    }

    // `message` from any sender.
    template <class F>
    requires detail::handler_for<F, const void> subscription subscribe(any_sender_t,
                                                                       std::string_view message,
                                                                       F&& handler) {
        return add(detail::subscription_kind::any_sender, nullptr, message,
                   detail::adapt_handler<const void>(std::forward<F>(handler)));
    }

    // Every message of `sender`; a handler taking (sender, message) learns which one it is.
    template <class F>
    requires detail::handler_for<F, const void> subscription subscribe(const void* sender,
                                                                       any_message_t, F&& handler) {
        return add(detail::subscription_kind::any_message, sender, {},
                   detail::adapt_handler<const void>(std::forward<F>(handler)));
    }

    template <class T, class F>
    requires(!std::is_void_v<T> && detail::handler_for<F, T>) subscription
        subscribe(T* sender, any_message_t, F&& handler) {
        return add(detail::subscription_kind::any_message, sender, {},
                   detail::adapt_handler<T>(std::forward<F>(handler)));
    }

    // Once this returns on any thread but the delivery thread, the handler is not running and is
    // never called again: it waits for a call in progress. Inside a handler it does not wait (the
    // call in progress may be its own). Unsubscribing twice, or a default-constructed subscription,
    // does nothing; a subscription of another dispatcher is std::invalid_argument.
    void unsubscribe(const subscription& s);

    // Queues (sender, message) and returns: handlers run on the delivery thread, one message at a
    // time, in send order. Inline on the caller's thread when async is disabled (concert::DISABLE)
    // or after shutdown(). A throwing handler goes to concert::report_error; delivery goes on.
    void send(const void* sender, std::string_view message);

    // Returns once every message sent before the call has been delivered. Called from inside a
    // handler it would wait for itself: std::logic_error.
    void flush();

    // Blocks until `sender` sends `message` (after this call began) or `timeout` passes; true if it
    // was sent. It returns as the message is sent, before its handlers run (flush() waits for
    // them).
    bool wait(const void* sender, std::string_view message,
              std::chrono::steady_clock::duration timeout);

    template <class Rep, class Period>
    bool wait(const void* sender, std::string_view message,
              const std::chrono::duration<Rep, Period>& timeout) {
        return wait(sender, message,
                    std::chrono::ceil<std::chrono::steady_clock::duration>(timeout));
    }

    // Delivers what was already sent and joins the delivery thread; later sends are delivered
    // inline on the sender's thread. The global dispatcher does this at program exit.
    void shutdown();

  private:
    friend class subscription;
    friend union detail::global_dispatcher_storage;

    struct process_lifetime_t {};
    // The global dispatcher: it shuts down at exit and its state is never freed, so that senders
    // running during static destruction still find it.
    constexpr explicit Dispatcher(process_lifetime_t) noexcept : process_lifetime_(true) {}

    subscription add(detail::subscription_kind kind, const void* sender, std::string_view message,
                     detail::message_handler handler);

    // The state, created on first use.
    detail::dispatcher_state& state();
    detail::dispatcher_state& create_state();

    std::atomic<detail::dispatcher_state*> state_{nullptr};
    std::mutex lifecycle_mutex_;  // creation and shutdown
    bool shut_down_ = false;      // guarded by lifecycle_mutex_
    bool process_lifetime_ = false;
};

// The dispatcher all devices share. Usable from static initialisers and during program exit.
extern CONCERT_API constinit Dispatcher& dispatcher;

}  // namespace concert
