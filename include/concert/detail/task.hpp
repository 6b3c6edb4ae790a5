// Building blocks shared by the executors: a call bound to copies of its arguments, the queue node
// a pool stores, and the fire-and-forget task.
#pragma once

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include "../errors.hpp"

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

template <class F, class... Args>
using call_result_t = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;

// The unit a pool queues. The pool calls start() once it took the node: true means the call is its
// to run, and then run_and_drop() runs it and lets go of the node; false means somebody else
// started it already (the task's own waiter, see detail::await), and drop() lets go.
class task {
  public:
    task() = default;
    task(const task&) = delete;
    task& operator=(const task&) = delete;

    virtual bool start() noexcept = 0;
    virtual void run_and_drop() noexcept = 0;
    virtual void drop() noexcept = 0;

    task* next = nullptr;

  protected:
    ~task() = default;
};

inline constexpr const char* detached_task_origin = "a fire-and-forget task";

// Runs a call whose result nobody waits for; its exception goes to the error handler.
template <class Call>
void run_detached(Call& call) noexcept {
    try {
        call();
    } catch (...) {
        report_error(std::current_exception(), detached_task_origin);
    }
}

template <class Call>
class detached_task final : public task {
  public:
    explicit detached_task(Call&& c) : call_(std::move(c)) {}
    bool start() noexcept override { return true; }
    void run_and_drop() noexcept override {
        run_detached(call_);
        delete this;
    }
    void drop() noexcept override { delete this; }

  private:
    ~detached_task() = default;
    Call call_;
};

}  // namespace concert::detail
