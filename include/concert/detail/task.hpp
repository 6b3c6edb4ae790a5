// Building blocks shared by the executors: a call bound to copies of its arguments, running it into
// a promise, and the intrusive queue node a pool stores.
#pragma once

#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
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

// Runs `call` and stores its value or exception in `promise`. `call` (with its captured arguments)
// is destroyed before the result is published, so a waiter never races with its destructor.
template <class R, class Call>
void fulfil(std::promise<R>& promise, std::optional<Call>& call) noexcept {
    try {
        if constexpr (std::is_void_v<R>) {
            (*call)();
            call.reset();
            promise.set_value();
        } else if constexpr (std::is_reference_v<R>) {
            R value = (*call)();
            call.reset();
            promise.set_value(value);
        } else {
            R value = (*call)();
            call.reset();
            promise.set_value(std::move(value));
        }
    } catch (...) {
        call.reset();
        promise.set_exception(std::current_exception());
    }
}

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

// The unit a pool queues: one allocation holding the link, the call and (for submit) the promise.
// The pool runs it once, then deletes it; a task deleted unrun breaks its promise.
struct task {
    task() = default;
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    virtual ~task() = default;
    virtual void run() noexcept = 0;
    task* next = nullptr;
};

template <class Call>
struct detached_task final : task {
    explicit detached_task(Call&& c) : call(std::move(c)) {}
    void run() noexcept override { run_detached(call); }
    Call call;
};

template <class R, class Call>
struct promised_task final : task {
    explicit promised_task(Call&& c) : call(std::move(c)) {}
    void run() noexcept override { fulfil(promise, call); }
    std::promise<R> promise;
    std::optional<Call> call;
};

}  // namespace concert::detail
