// concert::thread_pool: a fixed set of worker threads running submitted calls; the default pool
// that concert::async uses; concert::submit and concert::post.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "detail/task.hpp"
#include "disable.hpp"
#include "future.hpp"
#include "inline_executor.hpp"

namespace concert {

class CONCERT_API thread_pool {
  public:
    // Starts `threads` workers, named concert-0, concert-1, ...; 0 is std::invalid_argument.
    // Under CONCERT_DISABLE_ASYNC no thread is started: every submit runs inline.
    explicit thread_pool(std::size_t threads);

    // Runs every task already queued (and whatever those tasks submit), then joins the workers.
    ~thread_pool();

    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    std::size_t size() const noexcept;

    // Runs f(args...) on a worker and returns its future. The callable and arguments are
    // decay-copied (use std::ref to pass a reference). Inline when async is disabled. Throws
    // concert::pool_stopped when called from outside the pool after its destruction began.
    template <class F, class... Args>
    future<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args);

    // Fire and forget: like submit, without a future; an exception goes to concert's error handler.
    template <class F, class... Args>
    void post(F&& f, Args&&... args);

    // True on this pool's worker threads.
    bool is_worker_thread() const noexcept;

    // Takes ownership of `t` and queues it (the executors' low-level entry).
    void enqueue(detail::task* t);

  private:
    friend detail::await_outcome detail::await(detail::readiness,
                                               const std::chrono::steady_clock::time_point*);
    struct state;
    std::unique_ptr<state> state_;
};

// The global pool, created on first use with default_pool_size() workers.
CONCERT_API thread_pool& default_pool();

// 128 (device calls mostly block, so the default pool is sized for blocking work rather than
// cores), or the value of the environment variable CONCERT_THREADS, read now. A bad value throws
// std::invalid_argument naming the variable.
CONCERT_API std::size_t default_pool_size();

namespace detail {

// The one place that decides where work runs: inline when async is disabled, else on `pool`, or on
// the default pool when `pool` is null (created only when first needed).
template <class F, class... Args>
future<call_result_t<F, Args...>> submit_to(thread_pool* pool, F&& f, Args&&... args) {
    if (async_disabled()) {
        return inline_executor::submit(std::forward<F>(f), std::forward<Args>(args)...);
    }
    using result_type = call_result_t<F, Args...>;
    using call_type = decltype(bind_call(std::forward<F>(f), std::forward<Args>(args)...));
    auto* t = promised_task<result_type, call_type>::create(
        bind_call(std::forward<F>(f), std::forward<Args>(args)...));
    future<result_type> result{t->promise.get_future()};
    (pool != nullptr ? *pool : default_pool()).enqueue(t);
    return result;
}

template <class F, class... Args>
void post_to(thread_pool* pool, F&& f, Args&&... args) {
    if (async_disabled()) {
        inline_executor::post(std::forward<F>(f), std::forward<Args>(args)...);
        return;
    }
    using call_type = decltype(bind_call(std::forward<F>(f), std::forward<Args>(args)...));
    auto* t =
        new detached_task<call_type>(bind_call(std::forward<F>(f), std::forward<Args>(args)...));
    (pool != nullptr ? *pool : default_pool()).enqueue(t);
}

}  // namespace detail

template <class F, class... Args>
future<detail::call_result_t<F, Args...>> thread_pool::submit(F&& f, Args&&... args) {
    return detail::submit_to(this, std::forward<F>(f), std::forward<Args>(args)...);
}

template <class F, class... Args>
void thread_pool::post(F&& f, Args&&... args) {
    detail::post_to(this, std::forward<F>(f), std::forward<Args>(args)...);
}

// Runs f(args...) on the default pool (inline when async is disabled).
template <class F, class... Args>
future<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args) {
    return detail::submit_to(nullptr, std::forward<F>(f), std::forward<Args>(args)...);
}

// Fire and forget on the default pool; an exception goes to concert's error handler.
template <class F, class... Args>
void post(F&& f, Args&&... args) {
    detail::post_to(nullptr, std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace concert
