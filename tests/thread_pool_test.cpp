// concert::thread_pool and the default pool: concurrency, nested waits, shutdown, naming, sizing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#endif

#include <concert/concert.hpp>

#include "support.hpp"

namespace {

using concert::testing::gate;

TEST(ThreadPool, ZeroThreadsIsInvalidArgument) {
    EXPECT_THROW(concert::thread_pool{0}, std::invalid_argument);
}

TEST(ThreadPool, ReportsItsSize) {
    concert::thread_pool pool{3};
    EXPECT_EQ(pool.size(), 3u);
}

TEST(ThreadPool, SubmitForwardsArgumentsAndReturnsTheResult) {
    concert::thread_pool pool{2};
    auto f = pool.submit([](int a, const std::string& b) { return b + std::to_string(a); }, 4, "x");
    EXPECT_EQ(f.result(), "x4");
}

TEST(ThreadPool, MoveOnlyArgumentsAndResultsWork) {
    concert::thread_pool pool{2};
    auto f = pool.submit([](std::unique_ptr<int> p) { return std::make_unique<int>(*p + 1); },
                         std::make_unique<int>(41));
    EXPECT_EQ(*f.result(), 42);
}

// A callable whose state the test changes after submitting it.
struct store_value {
    int* target;
    int value;
    void operator()() const { *target = value; }
};

TEST(ThreadPool, TheCallableIsCopiedNotReferenced) {
    concert::thread_pool pool{1};
    int target = 0;
    store_value callable{&target, 1};
    concert::testing::gate gate;
    concert::testing::occupy_worker(pool, gate);
    auto f = pool.submit(callable);
    callable.value = 2;  // after submit returned: the task must not see this
    gate.open();
    f.wait();
    EXPECT_EQ(target, 1);
}

TEST(ThreadPool, StdRefPassesTheCallableByReference) {
    concert::thread_pool pool{1};
    int target = 0;
    store_value callable{&target, 1};
    concert::testing::gate gate;
    concert::testing::occupy_worker(pool, gate);
    auto f = pool.submit(std::ref(callable));
    callable.value = 2;
    gate.open();
    f.wait();
    EXPECT_EQ(target, concert::async_disabled() ? 1 : 2);
}

TEST(ThreadPool, ArgumentsAreCopiedUnlessPassedByStdRef) {
    concert::thread_pool pool{1};
    int counter = 0;
    pool.submit([](int& c) { ++c; }, std::ref(counter)).wait();
    pool.submit([](int c) { return c + 1; }, counter).wait();
    EXPECT_EQ(counter, 1);
}

int nested_sum(concert::thread_pool& pool, int depth) {
    if (depth == 0) {
        return 0;
    }
    return 1 + pool.submit(nested_sum, std::ref(pool), depth - 1).result();
}

TEST(ThreadPool, NestedSubmitAndWaitCompletesOnASingleThread) {
    concert::thread_pool pool{1};
    EXPECT_EQ(pool.submit(nested_sum, std::ref(pool), 100).result(), 100);
}

TEST(ThreadPool, NestedWaitsFromManyTasksCompleteOnTwoThreads) {
    concert::thread_pool pool{2};
    std::vector<concert::future<int>> outer;
    for (int i = 0; i < 50; ++i) {
        outer.push_back(pool.submit(nested_sum, std::ref(pool), 20));
    }
    for (auto& f : outer) {
        EXPECT_EQ(f.result(), 20);
    }
}

TEST(ThreadPool, AWorkerWaitingOnAnExternalFutureStillRunsLaterTasks) {
    CONCERT_SKIP_WHEN_INLINE();
    // The only worker waits on a promise that a later task of the same pool fulfils.
    concert::thread_pool pool{1};
    std::promise<int> promise;
    concert::future<int> external = promise.get_future();
    auto waiter = pool.submit([external] { return external.result(); });
    pool.post([&promise] { promise.set_value(6); });
    EXPECT_EQ(waiter.result(), 6);
}

TEST(ThreadPool, AThreadOutsideThePoolNeverRunsAPoolTaskWhileWaiting) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    const auto outside = std::this_thread::get_id();
    concert::testing::gate gate;
    std::mutex mutex;
    std::set<std::thread::id> ran_on;
    auto record = [&] {
        std::lock_guard lock(mutex);
        ran_on.insert(std::this_thread::get_id());
    };
    auto blocker = pool.submit([&] {
        gate.wait();
        record();
    });
    std::vector<concert::future<void>> queued;
    for (int i = 0; i < 100; ++i) {
        queued.push_back(pool.submit(record));
    }
    std::thread opener([&gate] { gate.open(); });
    concert::wait(queued);  // these are queued behind the blocker while this thread waits
    blocker.wait();
    opener.join();
    EXPECT_EQ(ran_on.count(outside), 0u);
    EXPECT_EQ(ran_on.size(), 1u);
}

TEST(ThreadPool, SixtyFourBlockingTasksRunConcurrentlyOnTheDefaultPoolWhateverItsSize) {
    CONCERT_SKIP_WHEN_INLINE();
    std::latch all_started(64);
    std::vector<concert::future<void>> futures;
    for (int i = 0; i < 64; ++i) {
        futures.push_back(concert::submit([&all_started] {
            // Below 64 workers, spare threads stand in for the blocked ones.
            const concert::blocking_scope blocking;
            all_started.arrive_and_wait();
        }));
    }
    concert::wait(futures);
    EXPECT_TRUE(all_started.try_wait());
}

TEST(ThreadPool, ManySubmittersLoseNoTaskAndNoResult) {
    concert::thread_pool pool{2};
    constexpr int submitters = 8;
    constexpr int tasks = 10'000;
    std::atomic<long> ran{0};
    std::vector<long> sums(submitters, 0);
    std::vector<std::thread> threads;
    for (int s = 0; s < submitters; ++s) {
        threads.emplace_back([&, s] {
            std::vector<concert::future<int>> futures;
            futures.reserve(tasks);
            for (int i = 0; i < tasks; ++i) {
                futures.push_back(pool.submit([&ran, i] {
                    ran.fetch_add(1, std::memory_order_relaxed);
                    return i;
                }));
            }
            for (auto& f : futures) {
                sums[s] += f.result();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ran.load(), long{submitters} * tasks);
    for (long sum : sums) {
        EXPECT_EQ(sum, long{tasks} * (tasks - 1) / 2);
    }
}

TEST(ThreadPool, DestructionRunsEveryQueuedTask) {
    std::atomic<int> ran{0};
    {
        concert::thread_pool pool{1};
        for (int i = 0; i < 1000; ++i) {
            pool.post([&ran] { ran.fetch_add(1); });
        }
    }
    EXPECT_EQ(ran.load(), 1000);
}

TEST(ThreadPool, DestructionDoesNotHangOnATaskWaitingForAnotherQueuedTask) {
    concert::future<int> outer;
    {
        concert::thread_pool pool{1};
        outer = pool.submit([&pool] { return pool.submit([] { return 5; }).result() + 1; });
    }
    EXPECT_EQ(outer.result(), 6);
}

TEST(ThreadPool, SubmitFromOutsideDuringDestructionThrowsPoolStopped) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::testing::gate release;
    std::atomic<bool> rejected{false};
    std::thread outsider;
    {
        concert::thread_pool pool{1};
        pool.post([&release] { release.wait(); });
        outsider = std::thread([&] {
            // Keeps submitting until the destructor has begun, then lets the blocked task finish.
            try {
                for (;;) {
                    pool.post([] {});
                }
            } catch (const concert::pool_stopped& e) {
                rejected = std::string(e.what()).find("destruction") != std::string::npos;
            }
            release.open();
        });
    }
    outsider.join();
    EXPECT_TRUE(rejected);
}

TEST(ThreadPool, ATaskMayDestroyItsOwnPoolAndTheQueuedWorkStillRuns) {
    CONCERT_SKIP_WHEN_INLINE();
    auto* pool = new concert::thread_pool{1};
    gate g;
    concert::testing::occupy_worker(*pool, g);
    std::promise<void> later_ran;
    auto later = later_ran.get_future();
    auto destroyer = pool->submit([pool] { delete pool; });
    pool->post([&later_ran] { later_ran.set_value(); });  // queued before the destruction
    g.open();
    destroyer.wait();
    EXPECT_EQ(later.wait_for(std::chrono::seconds(60)), std::future_status::ready);
}

TEST(ThreadPool, WorkerThreadsAreNamed) {
    CONCERT_SKIP_WHEN_INLINE();
#if defined(__linux__)
    concert::thread_pool pool{2};
    auto name = pool.submit([] {
                        char buffer[16] = {};
                        pthread_getname_np(pthread_self(), buffer, sizeof buffer);
                        return std::string(buffer);
                    })
                    .result();
    EXPECT_EQ(name.rfind("concert-", 0), 0u) << name;
#else
    GTEST_SKIP() << "thread names are read with pthread_getname_np";
#endif
}

TEST(ThreadPool, IsWorkerThreadTellsThePoolsOwnThreads) {
    concert::thread_pool pool{1};
    EXPECT_FALSE(pool.is_worker_thread());
    EXPECT_EQ(pool.submit([&pool] { return pool.is_worker_thread(); }).result(),
              !concert::async_disabled());
}

TEST(ThreadPool, QueuedAndRunningCountTheTasks) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    EXPECT_EQ(pool.queued(), 0u);
    EXPECT_EQ(pool.running(), 0u);
    gate g;
    std::latch started(1);
    pool.post([&] {
        started.count_down();
        g.wait();
    });
    started.wait();
    for (int i = 0; i < 5; ++i) {
        pool.post([] {});
    }
    EXPECT_EQ(pool.queued(), 5u);
    EXPECT_EQ(pool.running(), 1u);
    g.open();
    pool.wait_idle();
    EXPECT_EQ(pool.queued(), 0u);
    EXPECT_EQ(pool.running(), 0u);
}

TEST(ThreadPool, WaitIdleMakesEveryFinishedTasksWritesVisible) {
    concert::thread_pool pool{2};
    std::vector<int> written(1000, 0);
    for (std::size_t i = 0; i < written.size(); ++i) {
        pool.post([&written, i] { written[i] = static_cast<int>(i) + 1; });  // plain writes
    }
    pool.wait_idle();
    for (std::size_t i = 0; i < written.size(); ++i) {
        ASSERT_EQ(written[i], static_cast<int>(i) + 1);
    }
}

TEST(ThreadPool, WaitIdleWaitsForTasksThatSubmitMoreAndForBlockedOnes) {
    concert::thread_pool pool{1};
    std::atomic<int> ran{0};
    pool.post([&] {
        for (int i = 0; i < 10; ++i) {
            pool.post([&ran] { ran.fetch_add(1); });
        }
        ran.fetch_add(1);
    });
    pool.wait_idle();
    EXPECT_EQ(ran.load(), 11);
}

TEST(ThreadPool, WaitIdleFromThePoolsOwnTaskIsALogicError) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    auto attempt = pool.submit([&pool] { pool.wait_idle(); });
    EXPECT_THROW(attempt.wait(), std::logic_error);
}

TEST(DefaultPool, Has128WorkersUnlessConfigured) {
    if (std::getenv("CONCERT_THREADS") == nullptr) {
        EXPECT_EQ(concert::default_pool_size(), 128u);
    }
    EXPECT_EQ(concert::default_pool().size(), concert::default_pool_size());
}

TEST(DefaultPool, ABadThreadCountInTheEnvironmentIsAClearError) {
    const char* saved = std::getenv("CONCERT_THREADS");
    const std::string previous = saved != nullptr ? saved : "";
    for (const char* bad : {"abc", "0", "-3", "12x", "", "100000"}) {
        setenv("CONCERT_THREADS", bad, 1);
        try {
            concert::default_pool_size();
            ADD_FAILURE() << "accepted CONCERT_THREADS=" << bad;
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("CONCERT_THREADS"), std::string::npos) << e.what();
        }
    }
    setenv("CONCERT_THREADS", "16", 1);
    EXPECT_EQ(concert::default_pool_size(), 16u);
    if (saved != nullptr) {
        setenv("CONCERT_THREADS", previous.c_str(), 1);
    } else {
        unsetenv("CONCERT_THREADS");
    }
}

}  // namespace
