// The entry points that take a callable and its arguments (submit, post, an async wrapper's call)
// also take the caller's concert::source_location as a defaulted last parameter, the task's origin.
// A defaulted parameter cannot follow a parameter pack, so each entry point is declared once per
// number of arguments, 0 to 6 (more do not compile: bind them into the callable).
#pragma once

#include <utility>

#include "../origin.hpp"

// Pastes a parenthesised list: CONCERT_DETAIL_LIST (, class A1) is `, class A1`.
#define CONCERT_DETAIL_LIST(...) __VA_ARGS__

// The same list as leading parameters: CONCERT_DETAIL_LEADING (, A1&& a1) is `A1&& a1,`, and
// CONCERT_DETAIL_LEADING () is empty.
#define CONCERT_DETAIL_LEADING(ignored, ...) __VA_ARGS__ __VA_OPT__(, )

// Expands M(template parameters, types, parameters, arguments) once per arity; each list is in
// parentheses and, unless empty, starts with a comma, to follow `class F`, `F`, `F&& f` and
// `std::forward<F>(f)`.
#define CONCERT_DETAIL_EACH_ARITY(M)                                                              \
    M((), (), (), ())                                                                             \
    M((, class A1), (, A1), (, A1 && a1), (, std::forward<A1>(a1)))                               \
    M((, class A1, class A2), (, A1, A2), (, A1 && a1, A2 && a2),                                 \
      (, std::forward<A1>(a1), std::forward<A2>(a2)))                                             \
    M((, class A1, class A2, class A3), (, A1, A2, A3), (, A1 && a1, A2 && a2, A3 && a3),         \
      (, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3)))                       \
    M((, class A1, class A2, class A3, class A4), (, A1, A2, A3, A4),                             \
      (, A1 && a1, A2 && a2, A3 && a3, A4 && a4),                                                 \
      (, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3), std::forward<A4>(a4))) \
    M((, class A1, class A2, class A3, class A4, class A5), (, A1, A2, A3, A4, A5),               \
      (, A1 && a1, A2 && a2, A3 && a3, A4 && a4, A5 && a5),                                       \
      (, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3), std::forward<A4>(a4),  \
       std::forward<A5>(a5)))                                                                     \
    M((, class A1, class A2, class A3, class A4, class A5, class A6), (, A1, A2, A3, A4, A5, A6), \
      (, A1 && a1, A2 && a2, A3 && a3, A4 && a4, A5 && a5, A6 && a6),                             \
      (, std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3), std::forward<A4>(a4),  \
       std::forward<A5>(a5), std::forward<A6>(a6)))

// The defaulted last parameter of every entry point.
#define CONCERT_DETAIL_CALL_SITE \
    concert::source_location where = concert::source_location::current()
