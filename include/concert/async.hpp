// concert::async: Concert's decorator. It wraps a callable so that calling the wrapper runs the
// call on a pool and returns a concert::future; concert::is_async tells such wrappers apart.
#pragma once

#include <type_traits>
#include <utility>

#include "thread_pool.hpp"

namespace concert {

template <class F>
class async_function {
  public:
    // `pool` null: the default pool, looked up at each call (so a wrapper made during static
    // initialisation creates no pool).
    async_function(F fn, thread_pool* pool) : fn_(std::move(fn)), pool_(pool) {}

    // Submits fn(args...) with copies of fn and the arguments.
    template <class... Args>
    requires std::is_invocable_v<F, std::decay_t<Args>...>
    auto operator()(Args&&... args) const {
        return detail::submit_to(pool_, fn_, std::forward<Args>(args)...);
    }

    // The wrapped callable, to call it synchronously.
    const F& function() const noexcept { return fn_; }

  private:
    F fn_;
    thread_pool* pool_;
};

template <class F>
async_function<std::decay_t<F>> async(F&& fn) {
    return {std::forward<F>(fn), nullptr};
}

template <class F>
async_function<std::decay_t<F>> async(thread_pool& pool, F&& fn) {
    return {std::forward<F>(fn), &pool};
}

namespace detail {
template <class W>
inline constexpr bool is_async_function = false;
template <class F>
inline constexpr bool is_async_function<async_function<F>> = true;
}  // namespace detail

template <class W>
inline constexpr bool is_async_v = detail::is_async_function<std::remove_cvref_t<W>>;

// True exactly for wrappers made by concert::async.
template <class W>
constexpr bool is_async(const W& /*wrapper*/) noexcept {
    return is_async_v<W>;
}

}  // namespace concert
