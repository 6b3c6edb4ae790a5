// Connecting producers to consumers: concert::inject (a generator into a consumer),
// concert::broadcast (one source to N consumers), and the filters concert::map and concert::filter.
// Every function here uses an lvalue consumer by reference (the caller keeps it) and takes over an
// rvalue one, which it closes at the end of the input.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include "consumer.hpp"
#include "coroutine.hpp"
#include "generator.hpp"

namespace concert {

/// Drives `producer` and sends every item, moved, to `consumer`. Throws what the producer or the
/// consumer throws. It runs on the calling thread: thread-safe while no other thread uses
/// `producer` or `consumer`.
template <class T, class C>
requires consumer_of<C, T>
void inject(generator<T> producer, C&& consumer) {
    using stored = detail::stored_consumer_t<C&&>;
    stored target(std::forward<C>(consumer));
    for (T& item : producer) {
        detail::deliver(target, std::move(item));
    }
    detail::close_if_owned<stored>(target);
}

namespace detail {

// Every consumer but the last gets the item as const (a copy where it keeps one); the last gets
// it moved, so a broadcast to one consumer copies nothing.
template <bool last, class C, class T>
void hand_one(C& consumer, T& item) {
    if constexpr (last) {
        deliver(consumer, std::move(item));
    } else {
        deliver(consumer, std::as_const(item));
    }
}

template <class T, class... Stored>
coroutine<T> broadcast_to(Stored... consumers) {
    while (std::optional<T> item = co_await receive_or_end) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (hand_one<I + 1 == sizeof...(Stored)>(consumers, *item), ...);
        }
        (std::index_sequence_for<Stored...>{});
    }
    (close_if_owned<Stored>(consumers), ...);
}

template <class T, class Stored>
coroutine<T> broadcast_to_range(Stored consumers) {
    while (std::optional<T> item = co_await receive_or_end) {
        const auto end = std::ranges::end(consumers);
        for (auto it = std::ranges::begin(consumers); it != end;) {
            auto&& consumer = *it;
            if (++it == end) {
                hand_one<true>(consumer, *item);
            } else {
                hand_one<false>(consumer, *item);
            }
        }
    }
    if constexpr (!std::is_reference_v<Stored>) {
        for (auto& consumer : consumers) {
            close_if_owned<std::remove_reference_t<decltype(consumer)>>(consumer);
        }
    }
}

}  // namespace detail

/// A consumer that forwards every item to every one of `consumers`, in argument order. The item
/// type is the first one the consumers tell (see consumer_item_t), or `T` when given
/// (`concert::broadcast<int>()` broadcasts to nobody). An exception from a consumer propagates out
/// of send(), and the broadcast is then finished. Creating it throws what storing the consumers
/// throws (and std::bad_alloc); the coroutine it returns is used by one thread at a time.
template <class T = void, class... Cs>
requires detail::item_known<T, Cs...> &&(consumer_of<Cs, detail::chosen_item_t<T, Cs...>>&&...)
    coroutine<detail::chosen_item_t<T, Cs...>> broadcast(Cs&&... consumers) {
    using item = detail::chosen_item_t<T, Cs...>;
    return detail::broadcast_to<item, detail::stored_consumer_t<Cs&&>...>(
        std::forward<Cs>(consumers)...);
}

/// The same over a range of consumers (a std::vector, say), used by reference when an lvalue; it
/// throws and is thread-safe as the other overload.
template <class T = void, std::ranges::forward_range R>
requires detail::item_known<T, std::ranges::range_value_t<R>> && consumer_of<
    std::ranges::range_reference_t<R>, detail::chosen_item_t<T, std::ranges::range_value_t<R>>>
    coroutine<detail::chosen_item_t<T, std::ranges::range_value_t<R>>> broadcast(R&& consumers) {
    using item = detail::chosen_item_t<T, std::ranges::range_value_t<R>>;
    return detail::broadcast_to_range<item, detail::stored_consumer_t<R&&>>(
        std::forward<R>(consumers));
}

/// Sends f(item) on to `Stored` for every item (made by concert::map). Its `item_type` is the
/// parameter type of `F`, where it can be told. Not thread-safe: one thread at a time sends to it,
/// as with any consumer.
template <class F, class Stored>
class mapped_consumer : public detail::item_type_from<F> {
  public:
    /// Stores `function` and `consumer` (a reference when `Stored` is one); throws what storing
    /// them throws.
    template <class G, class C>
    mapped_consumer(G&& function, C&& consumer)
        : function_(std::forward<G>(function)), consumer_(std::forward<C>(consumer)) {}

    /// Sends f(item) to the consumer; throws what the function or the consumer throws.
    template <class U>
    requires std::invocable<F&, U>
    void send(U&& item) {
        detail::deliver(consumer_, std::invoke(function_, std::forward<U>(item)));
    }

    /// Closes the consumer it took over (one the caller kept stays open); throws what its close()
    /// throws.
    void close() { detail::close_if_owned<Stored>(consumer_); }

  private:
    F function_;
    Stored consumer_;
};

/// Sends on the items for which pred(item) is true (made by concert::filter). Its `item_type` is
/// the consumer's, or else the parameter type of `P`, where one can be told. Not thread-safe: one
/// thread at a time sends to it, as with any consumer.
template <class P, class Stored>
class filtered_consumer : public detail::item_type_from<Stored, P> {
  public:
    /// Stores `predicate` and `consumer` (a reference when `Stored` is one); throws what storing
    /// them throws.
    template <class Q, class C>
    filtered_consumer(Q&& predicate, C&& consumer)
        : predicate_(std::forward<Q>(predicate)), consumer_(std::forward<C>(consumer)) {}

    /// Sends `item` on to the consumer if pred(item) is true; throws what the predicate or the
    /// consumer throws.
    template <class U>
    requires std::predicate < P&, const std::remove_cvref_t<U>
    & > void send(U&& item) {
        if (std::invoke(predicate_, std::as_const(item))) {
            detail::deliver(consumer_, std::forward<U>(item));
        }
    }

    /// Closes the consumer it took over (one the caller kept stays open); throws what its close()
    /// throws.
    void close() { detail::close_if_owned<Stored>(consumer_); }

  private:
    P predicate_;
    Stored consumer_;
};

/// A consumer that sends function(item) on to `consumer` for every item. Throws what copying or
/// moving `function` and `consumer` throws; thread-safe (the consumer it returns is not).
template <class F, class C>
mapped_consumer<std::decay_t<F>, detail::stored_consumer_t<C&&>> map(F&& function, C&& consumer) {
    return {std::forward<F>(function), std::forward<C>(consumer)};
}

/// A consumer that sends on to `consumer` the items for which predicate(item) is true. Throws what
/// copying or moving `predicate` and `consumer` throws; thread-safe (the consumer it returns is
/// not).
template <class P, class C>
filtered_consumer<std::decay_t<P>, detail::stored_consumer_t<C&&>> filter(P&& predicate,
                                                                          C&& consumer) {
    return {std::forward<P>(predicate), std::forward<C>(consumer)};
}

}  // namespace concert
