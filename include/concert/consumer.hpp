// What a consumer is (a coroutine, a buffered stage, a sink, a filter or any callable taking an
// item), the item type it takes, and the one way the pipes hand it an item.
#pragma once

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace concert {

namespace detail {

template <class C, class T>
concept has_send = requires(C& consumer, T&& item) {
    consumer.send(std::forward<T>(item));
};

template <class Signature>
struct argument_of {};
template <class R, class A>
struct argument_of<R(A)> {
    using type = std::remove_cvref_t<A>;
};
template <class R, class A>
struct argument_of<R(A) noexcept> : argument_of<R(A)> {};

template <class Member>
struct call_operator_argument {};
template <class R, class X, class A>
struct call_operator_argument<R (X::*)(A)> : argument_of<R(A)> {};
template <class R, class X, class A>
struct call_operator_argument<R (X::*)(A) const> : argument_of<R(A)> {};
template <class R, class X, class A>
struct call_operator_argument<R (X::*)(A) noexcept> : argument_of<R(A)> {};
template <class R, class X, class A>
struct call_operator_argument<R (X::*)(A) const noexcept> : argument_of<R(A)> {};

template <class C>
concept declares_item_type = requires {
    typename C::item_type;
};

// The item type of a consumer, where it can be told: its `item_type`, or the parameter of a
// callable with a single, non-template call operator (a lambda `[](int x) {...}`, a function).
template <class C>
struct item_of {};
template <declares_item_type C>
struct item_of<C> {
    using type = typename C::item_type;
};
template <class C>
requires(!declares_item_type<C>) && requires {
    &C::operator();
}
struct item_of<C> : call_operator_argument<decltype(&C::operator())> {};
template <class C>
requires std::is_function_v<C>
struct item_of<C> : argument_of<C> {
};
template <class C>
requires std::is_function_v<std::remove_pointer_t<C>> && std::is_pointer_v<C>
struct item_of<C> : argument_of<std::remove_pointer_t<C>> {
};

template <class C>
concept has_item_type = requires {
    typename item_of<std::remove_cvref_t<C>>::type;
};

// The first item type told by any of `Cs`.
template <class... Cs>
struct first_item {};
template <class C, class... Rest>
struct first_item<C, Rest...> : first_item<Rest...> {};
template <has_item_type C, class... Rest>
struct first_item<C, Rest...> {
    using type = typename item_of<std::remove_cvref_t<C>>::type;
};

// The item type a pipe function works on: `T` when the caller names it, else the first one `Cs`
// tell.
template <class T, class... Cs>
struct chosen_item {
    using type = T;
};
template <class... Cs>
struct chosen_item<void, Cs...> : first_item<Cs...> {};

template <class T, class... Cs>
concept item_known = requires {
    typename chosen_item<T, Cs...>::type;
};

template <class T, class... Cs>
using chosen_item_t = typename chosen_item<T, Cs...>::type;

// Gives an adapter the first `item_type` told by the callables or consumers it wraps, if any.
template <class... Cs>
struct item_type_from {};
template <class... Cs>
requires requires {
    typename first_item<Cs...>::type;
}
struct item_type_from<Cs...> {
    using item_type = typename first_item<Cs...>::type;
};

}  // namespace detail

/// The type of item `C` takes, for consumers that tell it: its `item_type`, or the parameter of a
/// callable with a single, non-template call operator (a lambda `[](int x) {...}`, a function).
/// Functions that build pipes use it so that `concert::buffered([](int x) {...}, 64)` needs no
/// explicit item type. A compile-time type: nothing throws, nothing to share between threads.
template <class C>
using consumer_item_t = typename detail::item_of<std::remove_cvref_t<C>>::type;

/// `C` can consume items of type `T`: it has `send(T)`, or it is callable with a `T`. A
/// compile-time check: nothing throws, nothing to share between threads.
template <class C, class T>
concept consumer_of =
    detail::has_send<std::remove_reference_t<C>, T> || std::invocable < std::remove_reference_t<C>
&, T > ;

namespace detail {

// The one way the pipes pass an item on: `send` where the consumer has it, a call otherwise.
template <class C, class T>
void deliver(C& consumer, T&& item) {
    if constexpr (has_send<C, T>) {
        consumer.send(std::forward<T>(item));
    } else {
        std::invoke(consumer, std::forward<T>(item));
    }
}

// A consumer passed to a pipe is stored as `C`: a reference for an lvalue (the caller keeps it and
// may use it afterwards), a value taken over for an rvalue.
template <class C>
using stored_consumer_t =
    std::conditional_t<std::is_lvalue_reference_v<C>, C, std::remove_cvref_t<C>>;

// At the end of the input, a pipe closes the consumers it took over (a buffered stage then delivers
// what it holds and rethrows its consumer's exception); consumers the caller kept stay open.
// `Stored` is given explicitly (a stored_consumer_t).
template <class Stored>
void close_if_owned(std::remove_reference_t<Stored>& consumer) {
    if constexpr (!std::is_reference_v<Stored> && requires { consumer.close(); }) {
        consumer.close();
    }
}

}  // namespace detail

}  // namespace concert
