// The pool's scheduler. One FIFO queue under a mutex (a task is taken by exactly one worker, one at
// a time, so a worker blocked in a device call never holds back queued work). Idle workers spin for
// a short while before sleeping, and at most `max_spinning` of them spin at once: a submit then
// costs no syscall while a spinner is around, and an idle pool sleeps. A worker that waits on a
// future runs queued tasks meanwhile, so nested waits never starve the pool.
#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include <concert/detail/spin.hpp>
#include <concert/thread_pool.hpp>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace concert {

namespace {

using clock = std::chrono::steady_clock;
using detail::spin_until;

// How long an idle worker polls the queue before sleeping, and how long a thread outside the pool
// polls a future before blocking in the kernel. Waking a sleeping vCPU costs about 20 us, so
// polling a little longer than that keeps back-to-back work off the slow path.
constexpr auto worker_spin = std::chrono::microseconds(100);
constexpr auto waiter_spin = std::chrono::microseconds(50);
// A worker blocked on a future that is not this pool's re-checks it at this period.
constexpr auto helper_recheck = std::chrono::milliseconds(1);
// How many pauses a submitter waits for a returning worker before it wakes a sleeping one.
constexpr int lone_task_polls = 32;

void name_this_thread(std::size_t index) {
#if defined(__linux__)
    const auto name = fmt::format("concert-{}", index);
    pthread_setname_np(pthread_self(), name.c_str());
#else
    static_cast<void>(index);
#endif
}

}  // namespace

struct thread_pool::state {
    explicit state(std::size_t threads)
        : max_spinning(static_cast<int>(
              std::clamp<std::size_t>(std::thread::hardware_concurrency() / 2, 1, threads))),
          size(threads) {}

    detail::task* try_pop() {
        if (queued.load(std::memory_order_relaxed) == 0) {
            return nullptr;
        }
        std::lock_guard lock(queue_mutex);
        detail::task* t = head;
        if (t != nullptr) {
            head = t->next;
            if (head == nullptr) {
                tail = nullptr;
            }
            queued.fetch_sub(1);
        }
        return t;
    }

    void push(detail::task* t) {
        std::size_t queued_now = 0;
        {
            std::lock_guard lock(queue_mutex);
            if (tail != nullptr) {
                tail->next = t;
            } else {
                head = t;
            }
            tail = t;
            queued_now = queued.fetch_add(1) + 1;
        }
        if (spinning.load() == 0 && !taken_without_wakeup(queued_now)) {
            wake_one();
        }
        if (helpers_blocked.load() > 0) {
            wake_helpers();
        }
    }

    // A lone task submitted just as a worker finished the previous one (submit, wait, submit...):
    // that worker is back for it within a microsecond, far sooner than a woken one would be.
    bool taken_without_wakeup(std::size_t queued_now) const {
        if (queued_now != 1 || sleepers.load() == 0) {
            return false;
        }
        for (int i = 0; i < lone_task_polls; ++i) {
            if (queued.load() == 0 || spinning.load() != 0) {
                return true;
            }
            detail::cpu_relax();
        }
        return false;
    }

    // Wakes one sleeping worker unless one is spinning already; the woken worker starts out
    // spinning (the waker counts it), so a burst of submits wakes one thread, not one per task.
    void wake_one() {
        if (sleepers.load() == 0) {
            return;
        }
        int expected = 0;
        if (!spinning.compare_exchange_strong(expected, 1)) {
            return;
        }
        std::lock_guard lock(sleep_mutex);
        if (sleepers.load() > wake_tokens) {
            ++wake_tokens;
            work_cv.notify_one();
        } else {
            spinning.fetch_sub(1);
        }
    }

    void wake_helpers() {
        std::lock_guard lock(sleep_mutex);
        helper_cv.notify_all();
    }

    void run(detail::task* t) {
        t->run();
        delete t;
        // A worker blocked on a future waits for any task of this pool to finish.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (helpers_blocked.load(std::memory_order_relaxed) > 0) {
            wake_helpers();
        }
    }

    // Returns true when woken to spin (the waker counted this thread as spinning).
    bool sleep() {
        std::unique_lock lock(sleep_mutex);
        sleepers.fetch_add(1);
        if (queued.load() > 0 || stopping.load()) {
            sleepers.fetch_sub(1);
            return false;
        }
        work_cv.wait(lock, [&] { return wake_tokens > 0 || stopping.load(); });
        sleepers.fetch_sub(1);
        if (wake_tokens > 0) {
            --wake_tokens;
            return true;
        }
        return false;
    }

    bool try_start_spinning() {
        int count = spinning.load();
        while (count < max_spinning) {
            if (spinning.compare_exchange_weak(count, count + 1)) {
                return true;
            }
        }
        return false;
    }

    // A worker that just ran out of work is already running, while a worker being woken takes
    // ~20 us to arrive: the running one takes over its spinning slot (the woken one, finding no
    // token, sleeps on), so that queued work never waits for a wake-up in progress.
    bool take_over_wakeup() {
        std::lock_guard lock(sleep_mutex);
        if (wake_tokens == 0) {
            return false;
        }
        --wake_tokens;
        return true;
    }

    void work(std::size_t index);
    detail::await_outcome help_until(detail::readiness probe, const clock::time_point* deadline);

    // The queue.
    std::mutex queue_mutex;
    detail::task* head = nullptr;
    detail::task* tail = nullptr;
    std::atomic<std::size_t> queued{0};

    // Idle workers: a few spin, the others sleep on work_cv.
    const int max_spinning;
    std::atomic<int> spinning{0};
    std::atomic<int> sleepers{0};
    std::mutex sleep_mutex;
    std::condition_variable work_cv;
    int wake_tokens = 0;  // guarded by sleep_mutex

    // Workers blocked on a future with nothing queued to help with.
    std::atomic<int> helpers_blocked{0};
    std::condition_variable helper_cv;

    std::atomic<bool> stopping{false};
    const std::size_t size;
    std::vector<std::thread> threads;

    // The pool whose worker is the current thread, if any.
    static thread_local state* current;
};

thread_local thread_pool::state* thread_pool::state::current = nullptr;

void thread_pool::state::work(std::size_t index) {
    name_this_thread(index);
    current = this;
    bool counted_spinning = false;
    for (;;) {
        if (detail::task* t = try_pop()) {
            if (counted_spinning) {
                counted_spinning = false;
                // The last spinner to find work hands spinning over, so a burst spreads out.
                if (spinning.fetch_sub(1) == 1 && queued.load() > 0) {
                    wake_one();
                }
            }
            run(t);
            continue;
        }
        if (stopping.load() && queued.load() == 0) {
            break;
        }
        if (!counted_spinning) {
            counted_spinning = try_start_spinning() || take_over_wakeup();
        }
        if (counted_spinning) {
            if (spin_until(worker_spin, [&] { return queued.load() > 0 || stopping.load(); })) {
                continue;
            }
            spinning.fetch_sub(1);
            counted_spinning = false;
        }
        counted_spinning = sleep();
    }
    if (counted_spinning) {
        spinning.fetch_sub(1);
    }
    current = nullptr;
}

detail::await_outcome thread_pool::state::help_until(detail::readiness probe,
                                                     const clock::time_point* deadline) {
    const auto is_ready = [&] { return probe.ready(probe.self); };
    for (;;) {
        if (is_ready()) {
            return detail::await_outcome::ready;
        }
        if (detail::task* t = try_pop()) {
            run(t);
            continue;
        }
        if (deadline != nullptr && clock::now() >= *deadline) {
            return detail::await_outcome::timeout;
        }
        if (spin_until(waiter_spin, [&] { return is_ready() || queued.load() > 0; })) {
            continue;
        }
        std::unique_lock lock(sleep_mutex);
        helpers_blocked.fetch_add(1);
        auto until = clock::now() + helper_recheck;
        if (deadline != nullptr) {
            until = std::min(until, *deadline);
        }
        helper_cv.wait_until(lock, until, [&] { return is_ready() || queued.load() > 0; });
        helpers_blocked.fetch_sub(1);
    }
}

thread_pool::thread_pool(std::size_t threads) {
    if (threads == 0) {
        throw std::invalid_argument(
            "concert::thread_pool: the number of threads must be at least 1");
    }
    state_ = std::make_unique<state>(threads);
    if constexpr (async_compiled_out) {
        return;
    }
    state_->threads.reserve(threads);
    try {
        for (std::size_t i = 0; i < threads; ++i) {
            state_->threads.emplace_back([s = state_.get(), i] { s->work(i); });
        }
    } catch (...) {
        state_->stopping.store(true);
        state_->work_cv.notify_all();
        for (auto& t : state_->threads) {
            t.join();
        }
        throw;
    }
}

thread_pool::~thread_pool() {
    {
        std::lock_guard lock(state_->sleep_mutex);
        state_->stopping.store(true);
    }
    state_->work_cv.notify_all();
    state_->helper_cv.notify_all();
    for (auto& t : state_->threads) {
        t.join();
    }
}

std::size_t thread_pool::size() const noexcept {
    return state_->size;
}

bool thread_pool::is_worker_thread() const noexcept {
    return state::current == state_.get();
}

void thread_pool::enqueue(detail::task* t) {
    // During destruction the pool still takes work from its own tasks (they are being drained);
    // anyone else is told the pool is gone.
    if (state_->stopping.load(std::memory_order_relaxed) && !is_worker_thread()) {
        delete t;
        throw pool_stopped("concert::thread_pool: submit after the pool's destruction began");
    }
    state_->push(t);
}

std::size_t default_pool_size() {
    constexpr std::size_t default_threads = 128;
    constexpr std::size_t max_threads = 4096;
    const char* text = std::getenv("CONCERT_THREADS");
    if (text == nullptr) {
        return default_threads;
    }
    const std::string_view value(text);
    std::size_t threads = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), threads);
    if (error != std::errc{} || end != value.data() + value.size() || threads == 0 ||
        threads > max_threads) {
        throw std::invalid_argument(fmt::format(
            "CONCERT_THREADS='{}' is not a thread count: expected a whole number from 1 to {}",
            value, max_threads));
    }
    return threads;
}

thread_pool& default_pool() {
    static thread_pool pool(default_pool_size());
    return pool;
}

namespace detail {

await_outcome await(readiness probe, const std::chrono::steady_clock::time_point* deadline) {
    if (thread_pool::state::current != nullptr) {
        return thread_pool::state::current->help_until(probe, deadline);
    }
    clock::duration budget = waiter_spin;
    if (deadline != nullptr) {
        budget = std::min(budget, *deadline - clock::now());
    }
    return spin_until(budget, [&] { return probe.ready(probe.self); }) ? await_outcome::ready
                                                                       : await_outcome::must_block;
}

void throw_invalid_future(const char* operation) {
    throw invalid_future(fmt::format(
        "concert::future::{}() on a future with no state (default-constructed or moved-from)",
        operation));
}

}  // namespace detail

}  // namespace concert
