// A task that blocks hands its slot to a spare thread: no task on a waiter's stack, no latency
// inversion, no deadlock through a waiter's locks, no stack growth with nested waits, true
// deadlines, and the bound on spare threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include <concert/concert.hpp>
#include <concert/detail/spin.hpp>

#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using concert::testing::gate;

// Generous: these only catch a wait that hangs, never a slow machine.
constexpr auto hang_bound = 60s;

TEST(Blocking, AWaiterSeesItsResultWhileALongTaskQueuedMeanwhileStillRuns) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{2};
    gate inner_gate;
    gate long_call_gate;
    std::latch inner_started(1);
    std::latch long_call_started(1);
    auto inner = pool.submit([&] {
        inner_started.count_down();
        inner_gate.wait();
        return 5;
    });
    inner_started.wait();
    auto waiter = pool.submit([inner] { return inner.result(); });
    // Queued while the waiter waits: a spare thread must run it, not the waiter's own stack.
    auto long_call = pool.submit([&] {
        long_call_started.count_down();
        long_call_gate.wait();
    });
    long_call_started.wait();
    inner_gate.open();
    ASSERT_TRUE(waiter.wait_for(hang_bound)) << "the waiter is stuck behind the long call";
    EXPECT_EQ(waiter.result(), 5);
    EXPECT_FALSE(long_call.done());
    long_call_gate.open();
    long_call.wait();
}

TEST(Blocking, ABoundedWaitReturnsAtItsDeadlineWhateverIsQueued) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    std::promise<void> never_set;
    concert::future<void> never = never_set.get_future();
    gate queued_gate;
    auto waiter = pool.submit([never] {
        const auto start = std::chrono::steady_clock::now();
        const bool finished = never.wait_for(10ms);
        return std::pair{finished, std::chrono::steady_clock::now() - start};
    });
    std::vector<concert::future<void>> queued;
    for (int i = 0; i < 500; ++i) {
        queued.push_back(pool.submit([&queued_gate] { queued_gate.wait(); }));
    }
    const auto [finished, took] = waiter.result();
    EXPECT_FALSE(finished);
    EXPECT_LT(took, 200ms) << "the wait ran queued work past its deadline";
    queued_gate.open();
    concert::wait(queued);
}

TEST(Blocking, AWaitUntilOnAnotherPoolsTaskReturnsAtItsDeadline) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    concert::thread_pool other{1};
    gate other_gate;
    auto blocked = other.submit([&other_gate] { other_gate.wait(); });
    auto waiter = pool.submit([blocked] {
        const auto start = std::chrono::steady_clock::now();
        const bool finished = blocked.wait_until(std::chrono::system_clock::now() + 10ms);
        return std::pair{finished, std::chrono::steady_clock::now() - start};
    });
    const auto [finished, took] = waiter.result();
    EXPECT_FALSE(finished);
    EXPECT_LT(took, 200ms);
    other_gate.open();
    blocked.wait();
}

TEST(Blocking, AQueuedTaskWaitingForWhatAWaiterDoesAfterItsWaitDoesNotHang) {
    CONCERT_SKIP_WHEN_INLINE();
    for (std::size_t threads : {1U, 2U, 4U}) {
        concert::thread_pool pool{threads};
        std::promise<void> outside;
        concert::future<void> outside_done = outside.get_future();
        std::promise<void> a_after_wait;
        concert::future<void> a_done = a_after_wait.get_future();
        auto a = pool.submit([&] {
            outside_done.wait();
            a_after_wait.set_value();
        });
        // Many of them, so that every worker has one to pick up if it ran queued work.
        std::vector<concert::future<void>> bs;
        for (std::size_t i = 0; i < threads * 2; ++i) {
            bs.push_back(pool.submit([a_done] { a_done.wait(); }));
        }
        outside.set_value();
        ASSERT_TRUE(a.wait_for(hang_bound)) << threads << " threads";
        for (auto& b : bs) {
            ASSERT_TRUE(b.wait_for(hang_bound)) << threads << " threads";
        }
    }
}

TEST(Blocking, AWaiterHoldingAMutexNeverRunsATaskThatLocksIt) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    std::mutex device;
    std::promise<void> reply;
    concert::future<void> replied = reply.get_future();
    std::latch holding(1);
    auto holder = pool.submit([&] {
        const std::lock_guard lock(device);
        holding.count_down();
        replied.wait();
        return std::this_thread::get_id();
    });
    holding.wait();
    std::latch locker_started(1);
    auto locker = pool.submit([&] {
        locker_started.count_down();
        const std::lock_guard lock(device);
        return std::this_thread::get_id();
    });
    // The reply comes only once the locker runs, so it must run while the holder waits.
    locker_started.wait();
    reply.set_value();
    ASSERT_TRUE(holder.wait_for(hang_bound));
    ASSERT_TRUE(locker.wait_for(hang_bound));
    EXPECT_NE(holder.result(), locker.result());
}

TEST(Blocking, TwentyThousandQueuedNestedWaitsOnOneThreadComplete) {
    concert::thread_pool pool{1};
    std::vector<concert::future<int>> outer;
    outer.reserve(20'000);
    for (int i = 0; i < 20'000; ++i) {
        outer.push_back(
            pool.submit([&pool, i] { return pool.submit([i] { return i; }).result(); }));
    }
    long sum = 0;
    for (auto& f : outer) {
        sum += f.result();
    }
    EXPECT_EQ(sum, 20'000L * 19'999 / 2);
}

TEST(Blocking, AWaiterRunsOnlyTheTaskItWaitsForNeverAnother) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    gate g;
    concert::testing::occupy_worker(pool, g);
    // Queued behind the occupier: `first` is in front of `awaited` and must not run on the
    // waiter's thread.
    std::atomic<std::thread::id> first_ran_on;
    auto first = pool.submit([&] { first_ran_on = std::this_thread::get_id(); });
    auto waiter = pool.submit([&pool] {
        auto awaited = pool.submit([] { return std::this_thread::get_id(); });
        return std::pair{std::this_thread::get_id(), awaited.result()};
    });
    g.open();
    const auto [waiter_thread, awaited_thread] = waiter.result();
    first.wait();
    EXPECT_EQ(waiter_thread, awaited_thread) << "the awaited task, not started, is a direct call";
    EXPECT_NE(first_ran_on.load(), std::thread::id{});
}

TEST(Blocking, ABlockingScopeAroundAConditionVariableLetsQueuedWorkRun) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    std::mutex mutex;
    std::condition_variable changed;
    bool flag = false;
    auto waiter = pool.submit([&] {
        std::unique_lock lock(mutex);
        const concert::blocking_scope blocking;
        changed.wait(lock, [&] { return flag; });
    });
    auto setter = pool.submit([&] {
        {
            const std::lock_guard lock(mutex);
            flag = true;
        }
        changed.notify_all();
    });
    ASSERT_TRUE(setter.wait_for(hang_bound));
    ASSERT_TRUE(waiter.wait_for(hang_bound));
}

TEST(Blocking, OutsideAPoolABlockingScopeDoesNothing) {
    concert::thread_pool pool{1};
    const auto before = pool.thread_count();
    {
        const concert::blocking_scope blocking;
        const concert::blocking_scope nested;
    }
    EXPECT_EQ(pool.thread_count(), before);
}

TEST(Blocking, TheThreadsTakingQueuedWorkNeverOutnumberThePoolsSize) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{2};
    gate g;
    std::latch blocked(2);
    std::vector<concert::future<void>> blockers;
    for (int i = 0; i < 2; ++i) {
        blockers.push_back(pool.submit([&] {
            const concert::blocking_scope blocking;
            blocked.count_down();
            g.wait();
        }));
    }
    blocked.wait();
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    std::vector<concert::future<void>> short_tasks;
    for (int i = 0; i < 200; ++i) {
        short_tasks.push_back(pool.submit([&] {
            const int now = running.fetch_add(1) + 1;
            int seen = most.load();
            while (now > seen && !most.compare_exchange_weak(seen, now)) {
            }
            for (int spin = 0; spin < 1000; ++spin) {
                concert::detail::cpu_relax();
            }
            running.fetch_sub(1);
        }));
    }
    concert::wait(short_tasks);
    EXPECT_LE(most.load(), 2);
    EXPECT_GE(most.load(), 1);
    EXPECT_LE(pool.thread_count(), 4u);
    g.open();
    concert::wait(blockers);
}

TEST(Blocking, SpareThreadsAreReusedNotStartedAnew) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    concert::thread_pool other{1};
    for (int i = 0; i < 200; ++i) {
        // The waiter blocks on another pool's task: each round hands its slot to a spare.
        pool.submit([&other, i] { return other.submit([i] { return i; }).result(); }).wait();
    }
    EXPECT_LE(pool.thread_count(), 2u);
}

TEST(Blocking, PastTheSpareBoundWorkQueuesAndRunsOnceASlotFrees) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1, 2};
    gate g;
    std::latch three_blocked(3);
    std::vector<concert::future<void>> blockers;
    for (int i = 0; i < 3; ++i) {
        blockers.push_back(pool.submit([&] {
            const concert::blocking_scope blocking;
            three_blocked.count_down();
            g.wait();
        }));
    }
    three_blocked.wait();
    auto queued = pool.submit([] { return 7; });
    EXPECT_EQ(pool.thread_count(), 3u);
    EXPECT_FALSE(queued.wait_for(20ms));
    EXPECT_EQ(pool.queued(), 1u);
    g.open();
    EXPECT_EQ(queued.result(), 7);
    concert::wait(blockers);
}

TEST(Blocking, WaitingOnAnotherPoolsFutureOrAStandardFutureFromAWorkerCompletes) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    concert::thread_pool other{1};
    std::promise<int> standard;
    concert::future<int> adopted = standard.get_future();
    gate g;
    auto remote = other.submit([&g] {
        g.wait();
        return 2;
    });
    auto waiter = pool.submit([&] { return remote.result() + adopted.result(); });
    g.open();
    standard.set_value(3);
    EXPECT_EQ(waiter.result(), 5);
}

TEST(Blocking, BufferedBackPressureInsideAOneThreadPoolsTaskDoesNotDeadlock) {
    concert::thread_pool pool{1};
    auto producer = pool.submit([&pool] {
        std::vector<int> seen;
        // The consumer needs the pool while the pool's only worker waits for room in the stage.
        auto stage = concert::buffered(
            [&pool, &seen](int x) { seen.push_back(pool.submit([x] { return x * 2; }).result()); },
            1);
        for (int i = 0; i < 100; ++i) {
            stage.send(i);
        }
        stage.close();
        return seen;
    });
    ASSERT_TRUE(producer.wait_for(hang_bound));
    const auto seen = producer.result();
    ASSERT_EQ(seen.size(), 100u);
    EXPECT_EQ(seen.back(), 198);
}

TEST(Blocking, AFlushWhoseHandlerNeedsTheOneThreadPoolDoesNotDeadlockInsideItsTask) {
    concert::thread_pool pool{1};
    concert::Dispatcher messages;
    int motor = 0;
    std::atomic<int> handled{0};
    auto sub = messages.subscribe(&motor, "moved",
                                  [&](int*) { handled += pool.submit([] { return 1; }).result(); });
    auto task = pool.submit([&] {
        messages.send(&motor, "moved");
        messages.flush();  // the handler waits on this pool's only slot
        return handled.load();
    });
    ASSERT_TRUE(task.wait_for(hang_bound));
    EXPECT_EQ(task.result(), 1);
    messages.unsubscribe(sub);
}

TEST(Blocking, ADispatcherWaitInsideAOneThreadPoolsTaskLetsTheSenderRun) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    concert::Dispatcher messages;
    int camera = 0;
    std::latch waiting(1);
    auto waiter = pool.submit([&] {
        waiting.count_down();
        return messages.wait(&camera, "frame", hang_bound);
    });
    waiting.wait();
    // Queued behind the waiter: it runs only if the waiter handed its slot on. It sends until
    // the waiter saw it (a send before the wait began would not count).
    auto sender = pool.submit([&] {
        while (!waiter.done()) {
            messages.send(&camera, "frame");
            std::this_thread::yield();
        }
    });
    ASSERT_TRUE(waiter.wait_for(hang_bound));
    EXPECT_TRUE(waiter.result());
    sender.wait();
}

TEST(Deadlines, MaxDurationsMeanForever) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    gate g;
    auto f = pool.submit([&g] {
        g.wait();
        return 1;
    });
    std::thread opener([&g] { g.open(); });
    EXPECT_TRUE(f.wait_for(std::chrono::seconds::max()));
    EXPECT_TRUE(f.wait_for(std::chrono::nanoseconds::max()));
    EXPECT_TRUE(f.wait_for(std::chrono::hours::max()));
    EXPECT_TRUE(f.wait_until(std::chrono::steady_clock::time_point::max()));
    EXPECT_TRUE(f.wait_until(std::chrono::system_clock::time_point::max()));
    opener.join();
}

TEST(Deadlines, PastAndZeroDeadlinesOnlyLook) {
    concert::thread_pool pool{1};
    gate g;
    concert::testing::occupy_worker(pool, g);
    auto f = pool.submit([] { return 1; });
    if (!concert::async_disabled()) {
        EXPECT_FALSE(f.wait_for(0s));
        EXPECT_FALSE(f.wait_for(-5s));
        EXPECT_FALSE(f.wait_until(std::chrono::steady_clock::time_point::min()));
        EXPECT_FALSE(f.wait_until(std::chrono::system_clock::now() - 1h));
    }
    g.open();
    EXPECT_EQ(f.result(), 1);
    EXPECT_TRUE(f.wait_for(0s));
}

}  // namespace
