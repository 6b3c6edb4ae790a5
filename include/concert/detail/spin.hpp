// Bounded spinning, shared by the pool, the dispatcher and the buffered stage: the other side of a
// hand-off usually acts within microseconds, while waking a sleeping vCPU costs about 20 us.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

namespace concert::detail {

// One polite pause of a busy-wait loop (frees the core's pipeline for its sibling hyperthread).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#else
    std::this_thread::yield();
#endif
}

// Calls `done` between pauses until it returns true (then returns true) or `budget` has passed.
// Every few pauses it yields the CPU: when the spinner shares its CPU with the thread it waits for
// (another process holds the other vCPU), spinning without yielding would hold off that very thread
// for the whole budget.
template <class Done>
bool spin_until(std::chrono::steady_clock::duration budget, Done&& done) {
    const auto until = std::chrono::steady_clock::now() + budget;
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (done()) {
                return true;
            }
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= until) {
            return false;
        }
        std::this_thread::yield();
    }
}

// A lock for critical sections of a few dozen instructions, where sleeping in the kernel would cost
// more than the wait. After a while it yields, in case the holder was preempted.
class spin_lock {
  public:
    void lock() noexcept {
        while (locked_.exchange(true, std::memory_order_acquire)) {
            for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
                if (spins < spins_before_yield) {
                    cpu_relax();
                } else {
                    std::this_thread::yield();
                }
            }
        }
    }

    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

  private:
    static constexpr int spins_before_yield = 128;
    std::atomic<bool> locked_{false};
};

}  // namespace concert::detail
