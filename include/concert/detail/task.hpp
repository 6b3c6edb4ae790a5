// Building blocks shared by the executors: a call bound to copies of its arguments, the queue node
// a pool stores, and the fire-and-forget task.
#pragma once

#include <exception>
#include <functional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "../errors.hpp"
#include "../origin.hpp"

namespace concert::detail {

// Binds decayed copies of `f` and `args` (as std::thread does); the call invokes them as rvalues,
// so a reference is only kept where the user passed std::ref.
template <class F, class... Args>
auto bind_call(F&& f, Args&&... args) {
    return [fn = std::forward<F>(f),
            ... bound = std::forward<Args>(args)]() mutable -> decltype(auto) {
        return std::invoke(std::move(fn), std::move(bound)...);
    };
}

// The same for a callable that takes a std::stop_token first: the call passes the token it is
// given.
template <class F, class... Args>
auto bind_stoppable_call(F&& f, Args&&... args) {
    return [fn = std::forward<F>(f),
            ... bound = std::forward<Args>(args)](std::stop_token token) mutable -> decltype(auto) {
        return std::invoke(std::move(fn), std::move(token), std::move(bound)...);
    };
}

// A callable submitted with its arguments may take a std::stop_token first: the pool passes one,
// and cancel() on its running future requests the stop. Only when it cannot be called without.
template <class F, class... Args>
inline constexpr bool takes_stop_token_v =
    std::is_invocable_v<std::decay_t<F>, std::stop_token, std::decay_t<Args>...> &&
    !std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>;

// SFINAE-friendly (no `type` for a call that cannot be made), so that overload resolution between
// submit(f, args...) and submit(priority, f, args...) never fails hard.
template <class F, class... Args>
struct call_result : std::invoke_result<std::decay_t<F>, std::decay_t<Args>...> {};
template <class F, class... Args>
requires takes_stop_token_v<F, Args...>
struct call_result<F, Args...>
    : std::invoke_result<std::decay_t<F>, std::stop_token, std::decay_t<Args>...> {
};

// What f(args...) returns (f(token, args...) for a callable that takes a stop token).
template <class F, class... Args>
using call_result_t = typename call_result<F, Args...>::type;

// The bound call of either kind.
template <class F, class... Args>
auto bind_any_call(F&& f, Args&&... args) {
    if constexpr (takes_stop_token_v<F, Args...>) {
        return bind_stoppable_call(std::forward<F>(f), std::forward<Args>(args)...);
    } else {
        return bind_call(std::forward<F>(f), std::forward<Args>(args)...);
    }
}

// The unit a pool queues. The pool calls start() once it took the node: true means the call is its
// to run, and then run_and_drop() runs it and lets go of the node; false means somebody else
// started it already (the task's own waiter, see detail::await), and drop() lets go.
class task {
  public:
    task() = default;
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    virtual ~task() = default;

    virtual bool start() noexcept = 0;
    virtual void run_and_drop() noexcept = 0;
    virtual void drop() noexcept = 0;

    task* next = nullptr;
};

// Runs a call whose result nobody waits for; its exception goes to the error handler, with the
// call's origin.
template <class Call>
void run_detached(Call& call, const task_origin& origin) noexcept {
    try {
        if constexpr (std::is_invocable_v<Call&, std::stop_token>) {
            call(std::stop_token{});  // nobody can cancel a task without a future
        } else {
            call();
        }
    } catch (...) {
        report_task_failure(std::current_exception(), origin, failure_kind::detached);
    }
}

template <class Call>
class detached_task final : public task {
  public:
    detached_task(Call&& c, const task_origin& origin) : call_(std::move(c)), origin_(origin) {}
    bool start() noexcept override { return true; }
    void run_and_drop() noexcept override {
        run_detached(call_, origin_);
        delete this;
    }
    void drop() noexcept override { delete this; }

  private:
    Call call_;
    task_origin origin_;
};

}  // namespace concert::detail
