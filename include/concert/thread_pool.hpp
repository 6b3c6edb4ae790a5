// concert::thread_pool: worker threads running submitted calls, by priority, with spare threads
// that stand in for workers blocked inside a task; the default pool that concert::async uses;
// concert::submit and concert::post.
#pragma once

#include <concepts>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "blocking.hpp"
#include "detail/arities.hpp"
#include "detail/shared_state.hpp"
#include "detail/task.hpp"
#include "disable.hpp"
#include "future.hpp"
#include "inline_executor.hpp"
#include "origin.hpp"
#include "priority.hpp"

namespace concert {

CONCERT_POOL_ABI_BEGIN
class thread_pool;
CONCERT_POOL_ABI_END

namespace detail {
// What a pool's tasks record as their owner (see state_base::owner).
CONCERT_API const void* pool_identity(const thread_pool& pool) noexcept;

// Anything but a priority: keeps submit(f, args...) apart from submit(priority, f, args...).
template <class F>
concept not_priority = !std::same_as<std::decay_t<F>, priority>;

template <class F, class... Args>
future<call_result_t<F, Args...>> submit_to(thread_pool* pool, priority p,
                                            const task_origin& origin, F&& f, Args&&... args);
template <class F, class... Args>
void post_to(thread_pool* pool, priority p, const task_origin& origin, F&& f, Args&&... args);
}  // namespace detail

// submit and post, with and without a priority, for one arity (see detail/arities.hpp), on `POOL`
// (null: the default pool): the pool's members and the free functions.
#define CONCERT_DETAIL_CALLS_ON(POOL, TP, TY, PA, AR)                                              \
    template <detail::not_priority F CONCERT_DETAIL_LIST TP>                                       \
    future<detail::call_result_t<F CONCERT_DETAIL_LIST TY>> submit(F&& f CONCERT_DETAIL_LIST PA,   \
                                                                   CONCERT_DETAIL_CALL_SITE) {     \
        return detail::submit_to(POOL, priority::normal, {{}, where},                              \
                                 std::forward<F>(f) CONCERT_DETAIL_LIST AR);                       \
    }                                                                                              \
    template <class F CONCERT_DETAIL_LIST TP>                                                      \
    future<detail::call_result_t<F CONCERT_DETAIL_LIST TY>> submit(                                \
        priority p, F&& f CONCERT_DETAIL_LIST PA, CONCERT_DETAIL_CALL_SITE) {                      \
        return detail::submit_to(POOL, p, {{}, where}, std::forward<F>(f) CONCERT_DETAIL_LIST AR); \
    }                                                                                              \
    template <detail::not_priority F CONCERT_DETAIL_LIST TP>                                       \
    void post(F&& f CONCERT_DETAIL_LIST PA, CONCERT_DETAIL_CALL_SITE) {                            \
        detail::post_to(POOL, priority::normal, {{}, where},                                       \
                        std::forward<F>(f) CONCERT_DETAIL_LIST AR);                                \
    }                                                                                              \
    template <class F CONCERT_DETAIL_LIST TP>                                                      \
    void post(priority p, F&& f CONCERT_DETAIL_LIST PA, CONCERT_DETAIL_CALL_SITE) {                \
        detail::post_to(POOL, p, {{}, where}, std::forward<F>(f) CONCERT_DETAIL_LIST AR);          \
    }
#define CONCERT_DETAIL_POOL_CALLS(...) CONCERT_DETAIL_CALLS_ON(this, __VA_ARGS__)
#define CONCERT_DETAIL_DEFAULT_POOL_CALLS(...) CONCERT_DETAIL_CALLS_ON(nullptr, __VA_ARGS__)

CONCERT_POOL_ABI_BEGIN

/// A pool of `size()` slots for running tasks. Queued tasks start by priority, then in submission
/// order, each on exactly one thread. A task that blocks (in a future's wait, a buffered stage, the
/// dispatcher's flush or wait, or any concert::blocking_scope) gives its slot to a spare thread
/// while it blocks, so queued work keeps running and nested waits never deadlock; a waiting worker
/// never runs another task on its own stack (it may run the very task it waits for, if that has not
/// started: a direct call). Spare threads are started when needed, reused, and sleep when idle; at
/// most max_spare_threads of them exist, and past that bound queued work waits for a free slot. All
/// members are thread-safe.
class CONCERT_API thread_pool {
  public:
    /// Spare threads a pool may start beyond its size (Java's ForkJoinPool allows 256 too).
    static constexpr std::size_t default_max_spare_threads = 256;

    /// Starts `threads` workers, named concert-0, concert-1, ... (spares continue the numbering).
    /// 0 threads is std::invalid_argument; a thread that cannot start is std::system_error. Under
    /// CONCERT_DISABLE_ASYNC no thread is started: every submit runs inline.
    explicit thread_pool(std::size_t threads,
                         std::size_t max_spare_threads = default_max_spare_threads);

    /// Runs every task already queued (and whatever those tasks submit), then joins the threads.
    /// Called from one of the pool's own tasks it cannot wait for itself: it returns at once, and
    /// the threads finish the queued work and exit on their own.
    ~thread_pool();

    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// The number of slots: at most this many threads take queued work at once.
    std::size_t size() const noexcept;

#if defined(CONCERT_DOXYGEN)
    /// Runs f(args...) on the pool at normal priority and returns its future. The callable and the
    /// arguments are decay-copied (std::ref passes a reference); up to six arguments. `where`, left
    /// to its default, is the future's origin (see future::origin). Inline when async is disabled.
    /// Throws concert::pool_stopped when called from outside the pool after its destruction began,
    /// and whatever copying the callable or allocating the task throws; nothing is queued then.
    template <class F, class... Args>
    future<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args,
                                                     CONCERT_DETAIL_CALL_SITE);

    /// The same at priority `p`.
    template <class F, class... Args>
    future<detail::call_result_t<F, Args...>> submit(priority p, F&& f, Args&&... args,
                                                     CONCERT_DETAIL_CALL_SITE);

    /// Fire and forget: like submit, without a future; an exception goes to concert's error
    /// handler, naming `where`.
    template <class F, class... Args>
    void post(F&& f, Args&&... args, CONCERT_DETAIL_CALL_SITE);

    /// post at priority `p`.
    template <class F, class... Args>
    void post(priority p, F&& f, Args&&... args, CONCERT_DETAIL_CALL_SITE);
#else
    CONCERT_DETAIL_EACH_ARITY(CONCERT_DETAIL_POOL_CALLS)
#endif

    /// Tasks queued and not started yet. A task cancelled, or run by its own waiter, before the
    /// pool reached it still counts until a thread takes it out of the queue (at once when a thread
    /// is idle).
    std::size_t queued() const noexcept;

    /// Tasks started and not finished (including those blocked inside a blocking_scope).
    std::size_t running() const noexcept;

    /// Threads the pool has started so far: its workers and the spares (at most size() +
    /// max_spare_threads).
    std::size_t thread_count() const noexcept;

    /// Blocks until nothing is queued or running. Like a join, everything the finished tasks did is
    /// visible to the caller afterwards. From one of the pool's own tasks it would wait for itself:
    /// std::logic_error.
    void wait_idle() const;

    /// True on this pool's threads.
    bool is_worker_thread() const noexcept;

    /// Takes ownership of `t` and queues it at priority `p` (the executors' low-level entry).
    /// Throws concert::pool_stopped (having dropped `t`) as submit does.
    void enqueue(detail::task* t, priority p);

    /// The pool's internals, defined in the library.
    struct CONCERT_NO_EXPORT state;

    /// Defined by the library for the CONCERT_DISABLE_ASYNC setting it was built with; code built
    /// with the other setting refers to it and so fails to link (see CONCERT_POOL_ABI).
    static const bool built_for_this_setting;

  private:
    friend CONCERT_API const void* detail::pool_identity(const thread_pool& pool) noexcept;
    std::shared_ptr<state> state_;
};

CONCERT_POOL_ABI_END

/// The global pool, created on first use with default_pool_size() workers and never destroyed, so
/// that it serves static destructors and the global dispatcher's last deliveries too. At exit it
/// runs everything queued by then and joins its threads; what is submitted after that runs inline
/// (see docs/asynchronous-execution.md). Throws what default_pool_size() throws, on first use.
/// Thread-safe.
CONCERT_API thread_pool& default_pool();

/// 128 (device calls mostly block, so the default pool is sized for blocking work rather than
/// cores), or the value of the environment variable CONCERT_THREADS, read now. A bad value throws
/// std::invalid_argument naming the variable.
CONCERT_API std::size_t default_pool_size();

namespace detail {

// Inline code calls nothing of the pool: this reference makes a CONCERT_DISABLE_ASYNC mismatch
// between the program and the library a link error.
inline void refer_to_build_setting() noexcept {
    if constexpr (async_compiled_out) {
        [[maybe_unused]] const bool* volatile setting = &thread_pool::built_for_this_setting;
    }
}

// The one place that decides where work runs: inline when async is disabled, else on `pool`, or on
// the default pool when `pool` is null (created only when first needed).
template <class F, class... Args>
future<call_result_t<F, Args...>> submit_to(thread_pool* pool, priority p,
                                            const task_origin& origin, F&& f, Args&&... args) {
    refer_to_build_setting();
    if (async_disabled()) {
        return inline_executor::submit_from(origin, std::forward<F>(f),
                                            std::forward<Args>(args)...);
    }
    using result_type = call_result_t<F, Args...>;
    using call_type = decltype(bind_any_call(std::forward<F>(f), std::forward<Args>(args)...));
    thread_pool& target = pool != nullptr ? *pool : default_pool();
    auto* t = new task_state<result_type, call_type, takes_stop_token_v<F, Args...>>(
        bind_any_call(std::forward<F>(f), std::forward<Args>(args)...), pool_identity(target), 1);
    t->set_origin(origin);
    auto result = future_access::adopt<result_type>(t);
    target.enqueue(t, p);
    return result;
}

template <class F, class... Args>
void post_to(thread_pool* pool, priority p, const task_origin& origin, F&& f, Args&&... args) {
    refer_to_build_setting();
    if (async_disabled()) {
        inline_executor::post_from(origin, std::forward<F>(f), std::forward<Args>(args)...);
        return;
    }
    using call_type = decltype(bind_any_call(std::forward<F>(f), std::forward<Args>(args)...));
    thread_pool& target = pool != nullptr ? *pool : default_pool();
    target.enqueue(new detached_task<call_type>(
                       bind_any_call(std::forward<F>(f), std::forward<Args>(args)...), origin),
                   p);
}

}  // namespace detail

#if defined(CONCERT_DOXYGEN)
/// Runs f(args...) on the default pool (inline when async is disabled); up to six arguments, with
/// `where` as the future's origin. Throws as thread_pool::submit does. Thread-safe.
template <class F, class... Args>
future<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args, CONCERT_DETAIL_CALL_SITE);

/// concert::submit at priority `p`.
template <class F, class... Args>
future<detail::call_result_t<F, Args...>> submit(priority p, F&& f, Args&&... args,
                                                 CONCERT_DETAIL_CALL_SITE);

/// Fire and forget on the default pool; an exception goes to concert's error handler, naming
/// `where`. Thread-safe.
template <class F, class... Args>
void post(F&& f, Args&&... args, CONCERT_DETAIL_CALL_SITE);

/// concert::post at priority `p`.
template <class F, class... Args>
void post(priority p, F&& f, Args&&... args, CONCERT_DETAIL_CALL_SITE);
#else
CONCERT_DETAIL_EACH_ARITY(CONCERT_DETAIL_DEFAULT_POOL_CALLS)
#endif

#undef CONCERT_DETAIL_DEFAULT_POOL_CALLS
#undef CONCERT_DETAIL_POOL_CALLS
#undef CONCERT_DETAIL_CALLS_ON

}  // namespace concert
