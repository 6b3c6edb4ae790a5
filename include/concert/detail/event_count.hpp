// The one parking primitive: an event count. A thread that found nothing to do announces itself
// (prepare_wait), checks its condition once more, then sleeps until the epoch moves; a thread that
// changed the condition calls notify, which costs a single load while nobody sleeps. The pool's
// idle workers, the dispatcher's delivery thread, the buffered stage and every future waiter park
// here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <concert/export.hpp>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <ctime>
#else
#include <condition_variable>
#include <mutex>
#endif

namespace concert::detail {

// Usage, with the condition written by the notifier before notify():
//     for (;;) {
//         if (condition()) break;
//         auto key = ec.prepare_wait();
//         if (condition()) { ec.cancel_wait(); break; }
//         ec.wait(key);
//     }
// Every operation is sequentially consistent, so either the waiter sees the condition or the
// notifier sees the waiter. Thread-safe; never allocates.
class event_count {
  public:
    using key = std::uint32_t;
    using clock = std::chrono::steady_clock;

    // Announces a waiter; the returned key is what wait() sleeps on.
    key prepare_wait() noexcept {
        waiters_.fetch_add(1);
        return epoch_.load();
    }

    // The condition held after all: leave without sleeping.
    void cancel_wait() noexcept { waiters_.fetch_sub(1); }

    // Sleeps until a notify after prepare_wait (or spuriously); the caller re-checks its condition.
    void wait(key k) noexcept {
        while (epoch_.load() == k) {
            sleep(k, nullptr);
        }
        waiters_.fetch_sub(1);
    }

    // As wait(), but gives up at `deadline`; false when it gave up with the epoch unchanged.
    bool wait_until(key k, clock::time_point deadline) noexcept {
        bool moved = true;
        while (epoch_.load() == k) {
            if (clock::now() >= deadline) {
                moved = false;
                break;
            }
            sleep(k, &deadline);
        }
        waiters_.fetch_sub(1);
        return moved;
    }

    // Wakes one waiter (the others see the epoch move and re-check).
    void notify_one() noexcept {
        if (waiters_.load() != 0) {
            epoch_.fetch_add(1);
            wake(1);
        }
    }

    // Wakes every waiter.
    void notify_all() noexcept {
        if (waiters_.load() != 0) {
            epoch_.fetch_add(1);
            wake(all);
        }
    }

    // True while some thread is between prepare_wait and the end of its wait.
    bool has_waiters() const noexcept { return waiters_.load() != 0; }

  private:
    static constexpr int all = 0x7fffffff;

#if defined(__linux__)
    // A futex on the epoch, with an absolute CLOCK_MONOTONIC deadline (steady_clock's clock), so
    // that a timed wait neither drifts nor overruns.
    void sleep(key k, const clock::time_point* deadline) noexcept {
        timespec until{};
        timespec* until_ptr = nullptr;
        if (deadline != nullptr) {
            const auto since_epoch = deadline->time_since_epoch();
            const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
            until.tv_sec = static_cast<std::time_t>(seconds.count());
            until.tv_nsec = static_cast<long>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds)
                    .count());
            until_ptr = &until;
        }
        // EINTR, EAGAIN (the epoch moved) and ETIMEDOUT all return to the caller's re-check.
        syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_),
                FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, k, until_ptr, nullptr,
                FUTEX_BITSET_MATCH_ANY);
    }

    void wake(int count) noexcept {
        syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_),
                FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, nullptr, nullptr, 0);
    }
#else
    void sleep(key k, const clock::time_point* deadline) noexcept {
        std::unique_lock lock(mutex_);
        if (epoch_.load() != k) {
            return;
        }
        if (deadline != nullptr) {
            condition_.wait_until(lock, *deadline);
        } else {
            condition_.wait(lock);
        }
    }

    void wake(int count) noexcept {
        std::lock_guard lock(mutex_);
        if (count == 1) {
            condition_.notify_one();
        } else {
            condition_.notify_all();
        }
    }

    std::mutex mutex_;
    std::condition_variable condition_;
#endif

    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    std::atomic<std::uint32_t> epoch_{0};
    std::atomic<std::uint32_t> waiters_{0};
};

// Event counts for waiters on many small objects (futures' states): an object's waiters park on the
// slot its address hashes to, so no object carries one of its own. A notify may wake waiters of
// other objects on the same slot; they re-check and sleep again. Defined in the library, so that a
// shared build and its users share one table.
CONCERT_API event_count& parking_slot(const void* object) noexcept;

}  // namespace concert::detail
