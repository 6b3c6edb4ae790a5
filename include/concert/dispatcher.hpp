// concert::Dispatcher: Concert's messaging. Objects send (sender, message) pairs; handlers
// subscribed to them run on the dispatcher's delivery thread in send order. concert::dispatcher is
// the global one.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <concert/export.hpp>

namespace concert {

class Dispatcher;

/// Subscribes to a message whatever its sender: `dispatcher.subscribe(concert::any_sender,
/// "frame", h)`.
struct any_sender_t {
    /// Makes the tag; use the constant concert::any_sender. Never throws; thread-safe.
    explicit any_sender_t() = default;
};
/// The tag that stands for any sender (see any_sender_t). A constant: thread-safe.
inline constexpr any_sender_t any_sender{};

/// Subscribes to every message of one sender: `dispatcher.subscribe(&camera,
/// concert::any_message, h)`.
struct any_message_t {
    /// Makes the tag; use the constant concert::any_message. Never throws; thread-safe.
    explicit any_message_t() = default;
};
/// The tag that stands for any message (see any_message_t). A constant: thread-safe.
inline constexpr any_message_t any_message{};

/// A handler's value type did not match the value sent with the message (or the message carried
/// none). It reaches concert::report_error, never the sender; its what() names both types.
class message_value_mismatch : public std::logic_error {
  public:
    /// The constructors of std::logic_error.
    using std::logic_error::logic_error;
};

namespace detail {

struct dispatcher_state;
struct subscriber;
union global_dispatcher_storage;

enum class subscription_kind { sender_and_message, any_sender, any_message };

// A message as a handler receives it. `value` is the value sent with it, already checked to be of
// the handler's value type (unused by a handler that takes none).
struct delivered_message {
    const void* sender;
    std::string_view message;
    const void* value;
};

// How the dispatcher calls a handler: one indirect call with the handler's callable.
using handler_function = void (*)(void* callable, const delivered_message& m);

// A handler, type-erased: the callable it owns, the function that calls it, and the type of the
// value it takes (null: it takes none).
class erased_handler {
  public:
    template <class Stored>
    erased_handler(Stored* callable, handler_function call,
                   const std::type_info* value_type) noexcept
        : callable_(callable),
          call_(call),
          destroy_([](void* c) noexcept { delete static_cast<Stored*>(c); }),
          value_type_(value_type) {}
    ~erased_handler() {
        if (callable_ != nullptr) {
            destroy_(callable_);
        }
    }
    erased_handler(erased_handler&& other) noexcept
        : callable_(std::exchange(other.callable_, nullptr)),
          call_(other.call_),
          destroy_(other.destroy_),
          value_type_(other.value_type_) {}
    erased_handler& operator=(erased_handler&&) = delete;
    erased_handler(const erased_handler&) = delete;
    erased_handler& operator=(const erased_handler&) = delete;

    // What delivery calls: function()(callable(), message).
    void* callable() const noexcept { return callable_; }
    handler_function function() const noexcept { return call_; }
    const std::type_info* value_type() const noexcept { return value_type_; }

  private:
    void* callable_;
    handler_function call_;
    void (*destroy_)(void*) noexcept;
    const std::type_info* value_type_;
};

// The parameters of a handler, where its type declares them: function pointers, member functions
// (whose object is the sender) and function objects with one non-template operator() (lambdas).
template <class... A>
struct parameter_list {};

template <class F>
struct signature {};  // not deducible: no `parameters`
template <class R, class... A>
struct signature<R (*)(A...)> {
    using parameters = parameter_list<A...>;
};
template <class R, class... A>
struct signature<R (*)(A...) noexcept> : signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct signature<R (C::*)(A...)> : signature<R (*)(C*, A...)> {};
template <class R, class C, class... A>
struct signature<R (C::*)(A...) const> : signature<R (*)(const C*, A...)> {};
template <class R, class C, class... A>
struct signature<R (C::*)(A...) noexcept> : signature<R (*)(C*, A...)> {};
template <class R, class C, class... A>
struct signature<R (C::*)(A...) const noexcept> : signature<R (*)(const C*, A...)> {};

// The parameters of an operator(), without its object.
template <class M>
struct call_operator_signature {};
template <class R, class C, class... A>
struct call_operator_signature<R (C::*)(A...)> : signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct call_operator_signature<R (C::*)(A...) const> : signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct call_operator_signature<R (C::*)(A...) noexcept> : signature<R (*)(A...)> {};
template <class R, class C, class... A>
struct call_operator_signature<R (C::*)(A...) const noexcept> : signature<R (*)(A...)> {};

template <class F>
requires requires {
    &F::operator();
}
struct signature<F> : call_operator_signature<decltype(&F::operator())> {};

template <class List>
struct last_parameter {};
template <class... A>
requires(sizeof...(A) > 0) struct last_parameter<parameter_list<A...>> {
    using type = std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>;
};

// The value type a handler takes: its last parameter, without reference and const.
template <class F>
using handler_value_t = std::remove_cvref_t<
    typename last_parameter<typename signature<std::remove_cvref_t<F>>::parameters>::type>;

template <class F, class Sender>
concept message_handler_for =
    std::invocable<F&, Sender*> || std::invocable<F&, Sender*, std::string_view>;

template <class F, class Sender>
concept value_handler_for = requires {
    typename handler_value_t<F>;
}
&&(std::invocable<F&, Sender*, const handler_value_t<F>&> ||
   std::invocable<F&, Sender*, std::string_view, const handler_value_t<F>&>);

// A handler is called with the sender (as the pointer type it was subscribed with) and, if it
// takes them, the message and the value sent with it. A second parameter that accepts a
// std::string_view is the message.
template <class F, class Sender>
concept handler_for = message_handler_for<F, Sender> || value_handler_for<F, Sender>;

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

template <class Sender, class Stored>
void call_handler(void* callable, const delivered_message& m) {
    auto& handler = *static_cast<Stored*>(callable);
    // The sender was given to subscribe as Sender*, and only that exact address is delivered to it.
    auto* typed_sender = static_cast<Sender*>(const_cast<void*>(m.sender));
    if constexpr (std::invocable<Stored&, Sender*, std::string_view>) {
        std::invoke(handler, typed_sender, m.message);
    } else if constexpr (std::invocable<Stored&, Sender*>) {
        std::invoke(handler, typed_sender);
    } else {
        using V = handler_value_t<Stored>;
        const V& typed_value = *static_cast<const V*>(m.value);
        if constexpr (std::invocable<Stored&, Sender*, std::string_view, const V&>) {
            std::invoke(handler, typed_sender, m.message, typed_value);
        } else {
            std::invoke(handler, typed_sender, typed_value);
        }
    }
}

template <class Sender, class F>
erased_handler adapt_handler(F&& handler) {
    using stored = std::decay_t<F>;
    if (is_null_handler(handler)) {
        throw std::invalid_argument("concert::Dispatcher::subscribe: the handler is null");
    }
    const std::type_info* value_type = nullptr;
    if constexpr (!message_handler_for<stored, Sender>) {
        value_type = &typeid(handler_value_t<stored>);
    }
    return {new stored(std::forward<F>(handler)), &call_handler<Sender, stored>, value_type};
}

// How the queue keeps a value of one type: small trivially copyable values (a double, an int, a
// pair of them) as their bytes, in the queue itself; any other value in a block of its own, whose
// address the queue holds and which it frees once the message is delivered.
struct value_ops {
    const std::type_info* type;
    void (*destroy)(void* object) noexcept;  // null when the value is stored in place
    std::size_t size;                        // of what the queue holds: the value, or its address
};

inline constexpr std::size_t in_place_capacity = 16;
inline constexpr std::size_t in_place_alignment = 8;

template <class V>
inline constexpr bool in_place = std::is_trivially_copyable_v<V> &&
                                 (sizeof(V) <= in_place_capacity) &&
                                 (alignof(V) <= in_place_alignment);

template <class V>
void destroy_value(void* object) noexcept {
    delete static_cast<V*>(object);
}

template <class V>
inline constexpr value_ops value_ops_for{&typeid(V), in_place<V> ? nullptr : &destroy_value<V>,
                                         in_place<V> ? sizeof(V) : sizeof(V*)};

}  // namespace detail

/// A handle on one subscription: pass it to Dispatcher::unsubscribe. Copyable; it does not keep the
/// handler alive. Thread-safe as a value: copies may be used on any threads.
class CONCERT_API subscription {
  public:
    /// A handle on no subscription: active() is false, and unsubscribing it does nothing. Never
    /// throws.
    subscription() noexcept = default;

    /// True from subscribe until unsubscribe. Never throws; thread-safe.
    bool active() const noexcept;

  private:
    friend class Dispatcher;
    friend class scoped_subscription;
    subscription(Dispatcher* owner, std::weak_ptr<detail::subscriber> node) noexcept
        : owner_(owner), node_(std::move(node)) {}

    Dispatcher* owner_ = nullptr;
    std::weak_ptr<detail::subscriber> node_;
};

/// Owns a subscription and unsubscribes it on destruction (with unsubscribe's guarantee: once the
/// destructor has returned, the handler is not running and never runs again).
///
/// Move-only. Not thread-safe: one thread at a time uses one scoped_subscription.
class CONCERT_API scoped_subscription {
  public:
    /// Owns no subscription. Never throws.
    scoped_subscription() noexcept = default;
    /// Takes ownership of `s`. Never throws.
    explicit scoped_subscription(subscription s) noexcept : subscription_(std::move(s)) {}
    /// Unsubscribes, as reset() does. Never throws.
    ~scoped_subscription() { reset(); }

    /// Takes over `other`'s subscription, leaving `other` with none. Never throws.
    scoped_subscription(scoped_subscription&& other) noexcept : subscription_(other.release()) {}
    /// Unsubscribes its own subscription, then takes over `other`'s, leaving `other` with none.
    /// Never throws.
    scoped_subscription& operator=(scoped_subscription&& other) noexcept {
        if (this != &other) {
            reset();
            subscription_ = other.release();
        }
        return *this;
    }
    /// Not copyable: one owner per subscription.
    scoped_subscription(const scoped_subscription&) = delete;
    /// Not copyable: one owner per subscription.
    scoped_subscription& operator=(const scoped_subscription&) = delete;

    /// Unsubscribes now (with unsubscribe's guarantee), and owns no subscription afterwards; does
    /// nothing when it owns none. Never throws.
    void reset() noexcept;

    /// Gives up ownership: the subscription stays. Returns it and owns none afterwards. Never
    /// throws.
    subscription release() noexcept { return std::exchange(subscription_, {}); }

    /// The subscription owned, which stays owned. Never throws.
    const subscription& get() const noexcept { return subscription_; }

  private:
    subscription subscription_;
};

/// Concert's messaging: objects send (sender, message) pairs, optionally with a value, and the
/// handlers subscribed to them run on the dispatcher's delivery thread, one at a time, in send
/// order. concert::dispatcher is the global one.
///
/// Thread-safe: any thread (a handler too) may subscribe, unsubscribe and send.
class CONCERT_API Dispatcher {
  public:
    /// Constant-initialised and cheap: the queue and the delivery thread are created on first use,
    /// so a dispatcher (like concert::dispatcher) may be used from any static initialiser. Never
    /// throws.
    constexpr Dispatcher() noexcept = default;

    /// Delivers every message already sent, then joins the delivery thread. A handler may destroy
    /// its own dispatcher once no other call on it is in progress: the delivery under way then
    /// finishes after the destructor has returned, and frees the state.
    ~Dispatcher();

    /// Not copyable: subscriptions and queued messages belong to one dispatcher.
    Dispatcher(const Dispatcher&) = delete;
    /// Not copyable: subscriptions and queued messages belong to one dispatcher.
    Dispatcher& operator=(const Dispatcher&) = delete;

    /// Calls handler(sender) (or handler(sender, message)) for each `message` that `sender` sends;
    /// a handler taking a value last, (sender, const V&) or (sender, message, const V&), receives
    /// the value sent with the message (see send). The dispatcher keeps its own copy of `message`.
    /// A null handler is std::invalid_argument; also throws std::bad_alloc, and what copying or
    /// moving the handler throws. Thread-safe; handlers may subscribe.
    template <class F>
    requires detail::handler_for<F, const void> subscription subscribe(const void* sender,
                                                                       std::string_view message,
                                                                       F&& handler) {
        return add(detail::subscription_kind::sender_and_message, sender, message,
                   detail::adapt_handler<const void>(std::forward<F>(handler)));
    }

    /// Typed form: the handler receives the sender as the `T*` given here. Throws as the untyped
    /// form does. Thread-safe.
    template <class T, class F>
    requires(!std::is_void_v<T> && detail::handler_for<F, T>) subscription
        subscribe(T* sender, std::string_view message, F&& handler) {
        return add(detail::subscription_kind::sender_and_message, sender, message,
                   detail::adapt_handler<T>(std::forward<F>(handler)));
    }

    /// `message` from any sender; the handler receives each sender as a `const void*`. Throws as
    /// the form above does. Thread-safe.
    template <class F>
    requires detail::handler_for<F, const void> subscription subscribe(any_sender_t,
                                                                       std::string_view message,
                                                                       F&& handler) {
        return add(detail::subscription_kind::any_sender, nullptr, message,
                   detail::adapt_handler<const void>(std::forward<F>(handler)));
    }

    /// Every message of `sender`; a handler taking (sender, message) learns which one it is. Throws
    /// as the forms above do. Thread-safe.
    template <class F>
    requires detail::handler_for<F, const void> subscription subscribe(const void* sender,
                                                                       any_message_t, F&& handler) {
        return add(detail::subscription_kind::any_message, sender, {},
                   detail::adapt_handler<const void>(std::forward<F>(handler)));
    }

    /// Every message of `sender`, typed: the handler receives the sender as the `T*` given here.
    /// Throws as the forms above do. Thread-safe.
    template <class T, class F>
    requires(!std::is_void_v<T> && detail::handler_for<F, T>) subscription
        subscribe(T* sender, any_message_t, F&& handler) {
        return add(detail::subscription_kind::any_message, sender, {},
                   detail::adapt_handler<T>(std::forward<F>(handler)));
    }

    /// Once this returns on any thread but the one delivering, the handler is not running and is
    /// never called again: it waits for a call of that handler in progress, and for nothing else.
    /// Inside a handler it does not wait (the call in progress may be its own). Unsubscribing
    /// twice, or a default-constructed subscription, does nothing; a subscription of another
    /// dispatcher is std::invalid_argument. Thread-safe.
    void unsubscribe(const subscription& s);

    /// Queues (sender, message) and returns: handlers run on the delivery thread, one at a time, in
    /// send order. When async is disabled (concert::DISABLE) or after shutdown(), the sender
    /// delivers inline, and everything queued meanwhile, before it returns; but if another thread
    /// is delivering already (or a handler sends), send only queues and returns, and that thread
    /// delivers the message after those sent before. So a handler that sends iterates instead of
    /// recursing, and one handler at a time in send order holds whatever DISABLE does. A throwing
    /// handler goes to concert::report_error; delivery goes on. Thread-safe; throws only
    /// std::bad_alloc, and std::length_error for a message over 4 GiB.
    void send(const void* sender, std::string_view message);

    /// Sends `message` with a copy of `value` (decayed: a string literal arrives as const char*;
    /// send a std::string to carry text). Handlers taking (sender, const V&) or
    /// (sender, message, const V&) receive it; handlers taking no value receive the message. A
    /// handler whose V is not exactly the value's type is not called: a message_value_mismatch
    /// naming both types goes to concert::report_error, and delivery goes on. Small trivially
    /// copyable values are queued without allocation. As send() otherwise; also throws what
    /// copying the value throws. Thread-safe.
    template <class V>
    void send(const void* sender, std::string_view message, V&& value) {
        using stored = std::decay_t<V>;
        if constexpr (detail::in_place<stored> && sizeof(stored) <= sizeof(std::uint64_t)) {
            // In a register rather than through memory: most values are a word or less.
            const stored copy(std::forward<V>(value));
            std::uint64_t word = 0;
            std::memcpy(&word, std::addressof(copy), sizeof(stored));
            send_word(sender, message, detail::value_ops_for<stored>, word);
        } else if constexpr (detail::in_place<stored>) {
            const stored copy(std::forward<V>(value));
            send_value(sender, message, detail::value_ops_for<stored>, std::addressof(copy));
        } else {
            const auto* object = new stored(std::forward<V>(value));
            send_value(sender, message, detail::value_ops_for<stored>, &object);
        }
    }

    /// Returns once every message sent before the call has been delivered, by whichever thread
    /// delivers. Called from inside a handler it would wait for itself: std::logic_error.
    /// Thread-safe.
    void flush();

    /// Blocks until `sender` sends `message` (after this call began) or `timeout` passes; true if
    /// it was sent. It returns as the message is sent, before its handlers run (flush() waits for
    /// them). A timeout too long for the clock (duration::max() of any unit) waits forever.
    /// Thread-safe.
    bool wait(const void* sender, std::string_view message,
              std::chrono::steady_clock::duration timeout);

    /// As wait() above, with a timeout of any unit: rounded up to the clock's unit; one too long
    /// for the clock waits forever, and a zero or negative one does not wait. Thread-safe.
    template <class Rep, class Period>
    bool wait(const void* sender, std::string_view message,
              const std::chrono::duration<Rep, Period>& timeout) {
        using clock_duration = std::chrono::steady_clock::duration;
        // Compared in floating-point seconds, which hold any duration without overflow: ceil of
        // hours::max() in nanoseconds would wrap to a negative timeout. Beyond a century (half
        // the clock's range, clear of rounding at its end) is forever.
        using seconds = std::chrono::duration<long double>;
        const seconds length = timeout;
        if (length >= seconds(clock_duration::max() / 2)) {
            return wait(sender, message, clock_duration::max());
        }
        if (length <= seconds(clock_duration::zero())) {
            return wait(sender, message, clock_duration::zero());
        }
        return wait(sender, message, std::chrono::ceil<clock_duration>(timeout));
    }

    /// Delivers what was already sent and joins the delivery thread; later sends are delivered
    /// inline on the sender's thread. The global dispatcher does this at program exit. From a
    /// handler on the delivery thread it does not wait: the thread finishes the queue and leaves,
    /// and the destructor joins it. Thread-safe.
    void shutdown();

  private:
    friend class subscription;
    friend union detail::global_dispatcher_storage;

    struct process_lifetime_t {};
    // The global dispatcher: it shuts down at exit and its state is never freed, so that senders
    // running during static destruction still find it.
    constexpr explicit Dispatcher(process_lifetime_t) noexcept : process_lifetime_(true) {}

    subscription add(detail::subscription_kind kind, const void* sender, std::string_view message,
                     detail::erased_handler handler);

    // Queues the message with a value stored in place whose bytes are the first ops.size of
    // `word`'s.
    void send_word(const void* sender, std::string_view message, const detail::value_ops& ops,
                   std::uint64_t word);
    // Queues the message with a copy of the ops.size bytes at `bytes`: the value in place, or
    // (when ops.destroy is set) the address of its block, which it takes ownership of and frees
    // if queueing fails.
    void send_value(const void* sender, std::string_view message, const detail::value_ops& ops,
                    const void* bytes);

    // The state, created on first use.
    detail::dispatcher_state& state();
    detail::dispatcher_state& create_state();

    std::atomic<detail::dispatcher_state*> state_{nullptr};
    std::mutex lifecycle_mutex_;  // creation and shutdown
    bool shut_down_ = false;      // guarded by lifecycle_mutex_
    bool process_lifetime_ = false;
};

/// The dispatcher all devices share. Usable from static initialisers and during program exit.
/// Thread-safe, as any Dispatcher.
extern CONCERT_API constinit Dispatcher& dispatcher;

}  // namespace concert
