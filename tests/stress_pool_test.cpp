// Bounded stress of the thread pool: submit storms from many threads into small pools, with random
// nested waits, exceptions (std and not), dropped futures and fire-and-forget tasks, and pools
// destroyed with work queued and running. Every result and every exception is accounted for.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <concert/concert.hpp>

#include "support.hpp"

namespace {

// Fixed counts, chosen so that the whole file runs in seconds under ThreadSanitizer.
constexpr int storm_threads = 4;
constexpr int storm_submits_per_thread = 8000;
constexpr int destruction_rounds = 200;
constexpr int destruction_tasks = 200;

// Counts what reaches concert's error handler while it lives.
class counted_errors {
  public:
    counted_errors()
        : previous_(concert::set_error_handler(
              [this](std::exception_ptr /*error*/, std::string_view /*origin*/) { ++count_; })) {}
    ~counted_errors() { concert::set_error_handler(std::move(previous_)); }
    counted_errors(const counted_errors&) = delete;
    counted_errors& operator=(const counted_errors&) = delete;

    int count() const { return count_.load(); }

  private:
    std::atomic<int> count_{0};
    concert::error_handler previous_;
};

struct sensor_fault : std::runtime_error {
    explicit sensor_fault(int id) : std::runtime_error(std::to_string(id)), id(id) {}
    int id;
};

// One submitted future and what it must hold.
struct expectation {
    enum class kind { value, std_exception, other_exception };
    concert::future<int> result;
    kind what;
    int value;
};

// Sums 0..n-1 on the pool, one child task per term, waiting for each from the parent task (a nested
// wait: the parent's worker runs queued tasks meanwhile, so a pool of 2 never deadlocks).
int nested_sum(concert::thread_pool& pool, int n) {
    std::vector<concert::future<int>> children;
    children.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        children.push_back(pool.submit([i] { return i; }));
    }
    int sum = 0;
    for (const auto& child : children) {
        sum += child.result();
    }
    return sum;
}

TEST(StressPool, SubmitStormsFromManyThreadsAccountForEveryResultAndException) {
    counted_errors errors;
    std::atomic<int> dropped_ran{0};
    std::atomic<int> posted_ran{0};
    int dropped = 0;
    int posted = 0;
    int posted_throwing = 0;
    std::vector<std::vector<expectation>> expected(storm_threads);
    std::vector<int> dropped_by(storm_threads, 0);
    std::vector<int> posted_by(storm_threads, 0);
    std::vector<int> posted_throwing_by(storm_threads, 0);
    {
        concert::thread_pool pool(2);
        std::vector<std::thread> submitters;
        for (int t = 0; t < storm_threads; ++t) {
            submitters.emplace_back([&, t] {
                std::mt19937 random(static_cast<unsigned>(t) + 1);
                std::uniform_int_distribution<int> choice(0, 6);
                for (int i = 0; i < storm_submits_per_thread; ++i) {
                    const int id = t * storm_submits_per_thread + i;
                    switch (choice(random)) {
                        case 0:
                            expected[t].push_back(
                                {pool.submit([id] { return id; }), expectation::kind::value, id});
                            break;
                        case 1:
                            expected[t].push_back(
                                {pool.submit([id]() -> int { throw sensor_fault(id); }),
                                 expectation::kind::std_exception, id});
                            break;
                        case 2:
                            expected[t].push_back({pool.submit([id]() -> int { throw id; }),
                                                   expectation::kind::other_exception, id});
                            break;
                        case 3: {
                            const int n = 1 + id % 5;
                            expected[t].push_back(
                                {pool.submit([&pool, n] { return nested_sum(pool, n); }),
                                 expectation::kind::value, n * (n - 1) / 2});
                            break;
                        }
                        case 4:  // the future is dropped unwaited: the task still runs
                            pool.submit([&dropped_ran] { ++dropped_ran; });
                            ++dropped_by[t];
                            break;
                        case 5:
                            pool.post([&posted_ran] { ++posted_ran; });
                            ++posted_by[t];
                            break;
                        default:
                            pool.post([id] { throw sensor_fault(id); });
                            ++posted_throwing_by[t];
                            break;
                    }
                    // Now and then, wait on an earlier future of this thread from outside the pool.
                    if (i % 97 == 0 && !expected[t].empty()) {
                        expected[t][static_cast<std::size_t>(i) % expected[t].size()]
                            .result.wait_done();
                    }
                }
            });
        }
        for (auto& s : submitters) {
            s.join();
        }
        for (int t = 0; t < storm_threads; ++t) {
            dropped += dropped_by[t];
            posted += posted_by[t];
            posted_throwing += posted_throwing_by[t];
        }
    }  // the pool drains its queue: every dropped and posted task has run

    int checked = 0;
    for (const auto& per_thread : expected) {
        for (const auto& e : per_thread) {
            ASSERT_TRUE(e.result.done());
            switch (e.what) {
                case expectation::kind::value:
                    EXPECT_EQ(e.result.result(), e.value);
                    break;
                case expectation::kind::std_exception:
                    try {
                        e.result.wait();
                        ADD_FAILURE() << "task " << e.value << " did not throw";
                    } catch (const sensor_fault& fault) {
                        EXPECT_EQ(fault.id, e.value);
                    }
                    break;
                case expectation::kind::other_exception:
                    try {
                        e.result.wait();
                        ADD_FAILURE() << "task " << e.value << " did not throw";
                    } catch (int value) {
                        EXPECT_EQ(value, e.value);
                    }
                    break;
            }
            ++checked;
        }
    }
    EXPECT_EQ(checked + dropped + posted + posted_throwing,
              storm_threads * storm_submits_per_thread);
    EXPECT_EQ(dropped_ran.load(), dropped);
    EXPECT_EQ(posted_ran.load(), posted);
    EXPECT_EQ(errors.count(), posted_throwing);
}

TEST(StressPool, ASubmitRacingWithDestructionIsEitherRunOrRejected) {
    CONCERT_SKIP_WHEN_INLINE();
    for (int round = 0; round < destruction_rounds; ++round) {
        std::atomic<int> ran{0};
        int accepted = 0;
        concert::testing::gate release;
        std::thread outsider;
        {
            concert::thread_pool pool(1 + round % 2);
            // Holds the destructor until the outsider has seen the rejection, so that it never
            // touches a destroyed pool.
            pool.post([&release] { release.wait(); });
            outsider = std::thread([&] {
                try {
                    for (;;) {
                        pool.post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
                        ++accepted;
                    }
                } catch (const concert::pool_stopped&) {
                }
                release.open();
            });
        }
        outsider.join();
        ASSERT_EQ(ran.load(), accepted) << "round " << round;
    }
}

TEST(StressPool, DestroyingAPoolWithTasksQueuedAndRunningRunsEveryAcceptedTask) {
    for (int round = 0; round < destruction_rounds; ++round) {
        std::atomic<int> ran{0};
        std::vector<concert::future<int>> results;
        results.reserve(destruction_tasks);
        {
            concert::thread_pool pool(1 + round % 3);
            for (int i = 0; i < destruction_tasks; ++i) {
                if (i % 4 == 0) {
                    // Submits from inside while the destructor may already be draining: accepted.
                    pool.post([&pool, &ran] { pool.post([&ran] { ++ran; }); });
                } else {
                    results.push_back(pool.submit([&ran, i] {
                        ++ran;
                        return i;
                    }));
                }
            }
        }
        EXPECT_EQ(ran.load(), destruction_tasks) << "round " << round;
        for (const auto& r : results) {
            ASSERT_TRUE(r.done());
        }
        EXPECT_EQ(results.back().result(), destruction_tasks - 1);
    }
}

}  // namespace
