// concert::async: Concert's decorator. It wraps a callable so that calling the wrapper runs the
// call on a pool and returns a concert::future; concert::is_async tells such wrappers apart.
#pragma once

#include <type_traits>
#include <utility>

#include "priority.hpp"
#include "thread_pool.hpp"

namespace concert {

/// What concert::async returns: calling it submits the wrapped callable. Copyable; calling it is
/// thread-safe when F is.
template <class F>
class async_function {
  public:
    /// Wraps `fn` for `pool` at priority `p`; `pool` null: the default pool, looked up at each call
    /// (so a wrapper made during static initialisation creates no pool). Throws what moving `fn`
    /// throws.
    async_function(F fn, thread_pool* pool, priority p)
        : fn_(std::move(fn)), pool_(pool), priority_(p) {}

    /// Submits fn(args...) with copies of fn and the arguments, at the wrapper's priority; throws
    /// as thread_pool::submit does.
    template <class... Args>
    requires std::is_invocable_v<F, std::decay_t<Args>...>
    auto operator()(Args&&... args) const {
        return detail::submit_to(pool_, priority_, fn_, std::forward<Args>(args)...);
    }

    /// The wrapped callable, to call it synchronously. Never throws.
    const F& function() const noexcept { return fn_; }

    /// The priority its calls are submitted at. Never throws.
    priority submit_priority() const noexcept { return priority_; }

  private:
    F fn_;
    thread_pool* pool_;
    priority priority_;
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
