// concert::async: Concert's decorator. It wraps a callable so that calling the wrapper runs the
// call on a pool and returns a concert::future; concert::is_async tells such wrappers apart.
#pragma once

#include <string_view>
#include <type_traits>
#include <utility>

#include "detail/arities.hpp"
#include "origin.hpp"
#include "priority.hpp"
#include "thread_pool.hpp"

namespace concert {

/// What concert::async returns: calling it submits the wrapped callable. Copyable; calling it is
/// thread-safe when F is.
template <class F>
class async_function {
  public:
    /// Wraps `fn` for `pool` at priority `p`, naming its tasks `name` (which must live as long as
    /// the program: concert::async makes sure of it); `pool` null: the default pool, looked up at
    /// each call (so a wrapper made during static initialisation creates no pool). Throws what
    /// moving `fn` throws.
    async_function(F fn, thread_pool* pool, priority p, std::string_view name = {})
        : fn_(std::move(fn)), pool_(pool), priority_(p), name_(name) {}

#if defined(CONCERT_DOXYGEN)
    /// Submits fn(args...) with copies of fn and the arguments (up to six), at the wrapper's
    /// priority; the future's origin is the wrapper's name and `where`. Throws as
    /// thread_pool::submit does.
    template <class... Args>
    auto operator()(Args&&... args, CONCERT_DETAIL_CALL_SITE) const;
#else
#define CONCERT_DETAIL_WRAPPER_CALL(TP, TY, PA, AR)                                             \
    template <class G = F CONCERT_DETAIL_LIST TP>                                               \
    future<detail::call_result_t<const G & CONCERT_DETAIL_LIST TY>> operator()(                 \
        CONCERT_DETAIL_LEADING PA CONCERT_DETAIL_CALL_SITE) const {                             \
        return detail::submit_to(pool_, priority_, {name_, where}, fn_ CONCERT_DETAIL_LIST AR); \
    }
    CONCERT_DETAIL_EACH_ARITY(CONCERT_DETAIL_WRAPPER_CALL)
#undef CONCERT_DETAIL_WRAPPER_CALL
#endif

    /// The wrapped callable, to call it synchronously. Never throws.
    const F& function() const noexcept {
        return fn_;
    }

    /// The priority its calls are submitted at. Never throws.
    priority submit_priority() const noexcept {
        return priority_;
    }

    /// The name its tasks' origins carry (empty when none was given). Never throws.
    std::string_view name() const noexcept {
        return name_;
    }

  private:
    F fn_;
    thread_pool* pool_;
    priority priority_;
    std::string_view name_;
};

/// Wraps `fn`: each call of the wrapper runs fn on the default pool (at priority `p`) and returns
/// a concert::future of its result. Throws what copying or moving `fn` throws; thread-safe.
template <class F>
async_function<std::decay_t<F>> async(F&& fn, priority p = priority::normal) {
    return {std::forward<F>(fn), nullptr, p};
}

/// The same on `pool`, which must outlive the wrapper's calls; it throws and is thread-safe as the
/// other overload.
template <class F>
async_function<std::decay_t<F>> async(thread_pool& pool, F&& fn, priority p = priority::normal) {
    return {std::forward<F>(fn), &pool, p};
}

/// A named wrapper: its futures' origins carry `name` ("move x"), which the error handler's reports
/// show with the call's location, as in "move x (scan.cpp:42)". The name is copied once, to
/// storage that lives as long as the program. Throws what copying `fn` or the name throws;
/// thread-safe.
template <class F>
async_function<std::decay_t<F>> async(std::string_view name, F&& fn,
                                      priority p = priority::normal) {
    return {std::forward<F>(fn), nullptr, p, detail::lasting_name(name)};
}

/// A named wrapper on `pool`.
template <class F>
async_function<std::decay_t<F>> async(thread_pool& pool, std::string_view name, F&& fn,
                                      priority p = priority::normal) {
    return {std::forward<F>(fn), &pool, p, detail::lasting_name(name)};
}

namespace detail {
template <class W>
inline constexpr bool is_async_function = false;
template <class F>
inline constexpr bool is_async_function<async_function<F>> = true;
}  // namespace detail

/// True exactly for the types of wrappers made by concert::async (references and const ignored). A
/// constant: thread-safe.
template <class W>
inline constexpr bool is_async_v = detail::is_async_function<std::remove_cvref_t<W>>;

/// True exactly for wrappers made by concert::async. Never throws; thread-safe.
template <class W>
constexpr bool is_async(const W& /*wrapper*/) noexcept {
    return is_async_v<W>;
}

}  // namespace concert
