// Futures that compose: then (chains, unwrapping, pools, failures), when_all, when_any, cancel,
// concert::promise, moving results out, and failures nobody observed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <concert/concert.hpp>

#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using concert::testing::gate;
using concert::testing::reported_errors;

constexpr auto hang_bound = 60s;

struct motor_fault : std::runtime_error {
    motor_fault() : std::runtime_error("motor fault") {}
};

TEST(Then, RunsWithTheValueAndChains) {
    auto f = concert::submit([] { return 2; }).then([](int x) { return x * 10; }).then([](int x) {
        return std::to_string(x);
    });
    EXPECT_EQ(f.result(), "20");
}

TEST(Then, OnAVoidFutureTakesNoArgument) {
    std::atomic<int> ran{0};
    auto f = concert::submit([&ran] { ++ran; }).then([&ran] {
        ++ran;
        return ran.load();
    });
    EXPECT_EQ(f.result(), 2);
}

TEST(Then, AChainOfTenThousandNeitherOverflowsNorBlocksAThread) {
    concert::promise<int> start;
    concert::thread_pool pool{1};
    concert::future<int> last = start.get_future();
    for (int i = 0; i < 10'000; ++i) {
        last = last.then(pool, [](int x) { return x + 1; });
    }
    EXPECT_FALSE(concert::async_disabled() ? false : last.done());
    start.set_value(0);  // the whole chain runs from here, inline when async is disabled
    ASSERT_TRUE(last.wait_for(hang_bound));
    EXPECT_EQ(last.result(), 10'000);
}

TEST(Then, AFailureSkipsTheContinuationAndPropagatesAlongTheChain) {
    std::atomic<bool> ran{false};
    auto f = concert::submit([]() -> int { throw motor_fault(); })
                 .then([&ran](int x) {
                     ran = true;
                     return x;
                 })
                 .then([&ran](int x) {
                     ran = true;
                     return x;
                 });
    EXPECT_THROW(f.wait(), motor_fault);
    EXPECT_FALSE(ran);
}

TEST(Then, AContinuationReturningAFutureIsUnwrapped) {
    auto f = concert::submit([] { return 3; }).then([](int x) {
        return concert::submit([x] { return x + 4; });
    });
    static_assert(std::is_same_v<decltype(f), concert::future<int>>);
    EXPECT_EQ(f.result(), 7);
}

TEST(Then, RunsOnTheGivenPoolOrOnThePoolThatRanTheTask) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool producer{1};
    concert::thread_pool consumer{1};
    auto on_producer = producer.submit([] { return 1; }).then([&producer](int) {
        return producer.is_worker_thread();
    });
    auto on_consumer = producer.submit([] { return 1; }).then(consumer, [&consumer](int) {
        return consumer.is_worker_thread();
    });
    EXPECT_TRUE(on_producer.result());
    EXPECT_TRUE(on_consumer.result());
}

TEST(Then, UnderDisableItRunsInlineOnTheCallersThread) {
    const bool was = concert::DISABLE.exchange(true);
    const auto caller = std::this_thread::get_id();
    auto f = concert::submit([] { return 1; }).then([](int) { return std::this_thread::get_id(); });
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), caller);
    concert::DISABLE = was;
}

// The worker that completes a task runs its continuation next only while nothing else is queued:
// a continuation never jumps the queue.
class ordered_log {
  public:
    auto record(std::string entry) {
        return [this, entry = std::move(entry)](auto&&...) {
            const std::lock_guard lock(mutex_);
            entries_.push_back(entry);
        };
    }
    std::vector<std::string> entries() {
        const std::lock_guard lock(mutex_);
        return entries_;
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> entries_;
};

TEST(Then, AContinuationWaitsBehindWorkQueuedBeforeItsInputFinished) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    ordered_log log;
    gate g;
    concert::testing::occupy_worker(pool, g);
    const auto a = pool.submit(log.record("a"));
    const auto c = a.then(pool, log.record("c"));
    const auto b = pool.submit(log.record("b"));
    g.open();
    concert::wait(a, b, c);
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Then, AHighPriorityTaskSubmittedDuringAChainRunsBeforeItsNextLink) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    ordered_log log;
    concert::promise<void> start;
    concert::future<void> last = start.get_future();
    concert::future<void> urgent;
    for (int link = 0; link < 10; ++link) {
        last = last.then(pool, [&, link] {
            log.record("link " + std::to_string(link))();
            if (link == 4) {
                urgent = pool.submit(concert::priority::high, log.record("urgent"));
            }
        });
    }
    start.set_value();
    last.wait();
    urgent.wait();
    const auto entries = log.entries();
    ASSERT_EQ(entries.size(), 11u);
    EXPECT_EQ(entries[5], "urgent");
}

TEST(Then, APoolDestroyedMidChainRunsTheContinuationsItsWorkersKeptForNext) {
    concert::future<int> last;
    {
        concert::thread_pool pool{1};
        last = pool.submit([] { return 0; });
        for (int link = 0; link < 1000; ++link) {
            last = last.then(pool, [](int x) { return x + 1; });
        }
    }
    ASSERT_TRUE(last.done());
    EXPECT_EQ(last.result(), 1000);
}

TEST(Then, AContinuationOfAPromiseSetInsideATaskRunsWhileThatTaskGoesOn) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    concert::promise<int> reply;
    std::promise<void> continued;
    const auto next = reply.get_future().then(pool, [&continued](int) { continued.set_value(); });
    const auto setter = pool.submit([&] {
        reply.set_value(1);
        // Had the continuation been kept for after this task, it would never run meanwhile.
        const concert::blocking_scope blocking;
        return continued.get_future().wait_for(30s) == std::future_status::ready;
    });
    EXPECT_TRUE(setter.result());
    next.wait();
}

TEST(Then, ThePromisesFutureContinuesOnTheDefaultPool) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::promise<int> p;
    auto where =
        p.get_future().then([](int) { return concert::default_pool().is_worker_thread(); });
    std::thread setter([&p] { p.set_value(1); });
    EXPECT_TRUE(where.result());
    setter.join();
}

TEST(WhenAll, FinishesOnceEveryInputFinishedWithTheFirstExceptionInArgumentOrder) {
    concert::promise<int> late;
    auto ok = concert::submit([] { return 1; });
    auto second = concert::submit([]() -> int { throw std::logic_error("second"); });
    auto all = concert::when_all(ok, late.get_future(), second);
    EXPECT_FALSE(all.done());
    late.set_exception(std::make_exception_ptr(motor_fault()));
    EXPECT_THROW(all.wait(), motor_fault);
}

TEST(WhenAll, OfARangeAndOfNothing) {
    std::vector<concert::future<int>> futures;
    std::atomic<int> ran{0};
    for (int i = 0; i < 1000; ++i) {
        futures.push_back(concert::submit([&ran, i] {
            ++ran;
            return i;
        }));
    }
    concert::when_all(futures).wait();
    EXPECT_EQ(ran.load(), 1000);
    EXPECT_TRUE(concert::when_all(std::vector<concert::future<int>>{}).done());
    EXPECT_NO_THROW(concert::when_all().wait());
}

TEST(WhenAll, AFutureWithoutStateIsAClearErrorAtOnce) {
    concert::future<int> none;
    EXPECT_THROW(concert::when_all(none), concert::invalid_future);
    EXPECT_THROW(concert::when_any(none), concert::invalid_future);
    EXPECT_THROW(concert::when_any(std::vector<concert::future<int>>{}), std::invalid_argument);
}

TEST(WhenAny, ReturnsTheInputThatFinishedWhileAnotherNeverDoes) {
    concert::promise<int> never_until_the_end;
    auto quick = concert::submit([] { return 5; });
    auto first = concert::when_any(never_until_the_end.get_future(), quick);
    EXPECT_EQ(first.result(), 1u);
    never_until_the_end.set_value(0);
}

TEST(WhenAny, CountsAFailureAsFinishing) {
    concert::promise<void> never;
    auto failed = concert::submit([] { throw motor_fault(); });
    std::vector<concert::future<void>> inputs{never.get_future(), failed};
    EXPECT_EQ(concert::when_any(inputs).result(), 1u);
    never.set_value();
}

TEST(Cancel, BeforeTheTaskStartsItNeverRuns) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    gate g;
    concert::testing::occupy_worker(pool, g);
    concert::thread_pool other{1};
    std::atomic<bool> ran{false};
    auto f = pool.submit([&ran] { ran = true; });
    auto continuation = f.then(other, [] { return 1; });
    EXPECT_TRUE(f.cancel());
    g.open();
    pool.wait_idle();
    EXPECT_EQ(pool.queued(), 0u);
    EXPECT_FALSE(ran);
    EXPECT_THROW(f.wait(), concert::cancelled);
    EXPECT_THROW(f.result(), concert::cancelled);
    EXPECT_THROW(continuation.result(), concert::cancelled);
}

TEST(Cancel, ARunningTaskThatTakesAStopTokenIsAskedToStop) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    std::latch started(1);
    auto f = pool.submit(
        [&started](std::stop_token stop, int step) {
            started.count_down();
            int steps = 0;
            while (!stop.stop_requested()) {
                steps += step;
                std::this_thread::yield();
            }
            return steps >= 0 ? std::string("stopped") : std::string("?");
        },
        1);
    started.wait();
    EXPECT_FALSE(f.cancel());
    EXPECT_EQ(f.result(), "stopped");
}

TEST(Cancel, AfterTheTaskFinishedItDoesNothing) {
    auto f = concert::submit([] { return 4; });
    f.wait();
    EXPECT_FALSE(f.cancel());
    EXPECT_EQ(f.result(), 4);
}

TEST(Cancel, AContinuationCancelledBeforeItsInputFinishedNeverRuns) {
    concert::promise<int> input;
    std::atomic<bool> ran{false};
    auto next = input.get_future().then([&ran](int x) {
        ran = true;
        return x;
    });
    EXPECT_TRUE(next.cancel());
    input.set_value(1);
    EXPECT_THROW(next.wait(), concert::cancelled);
    concert::default_pool().wait_idle();
    EXPECT_FALSE(ran);
}

TEST(Cancel, RacingWithStartEveryTaskEitherRanOrWasCancelled) {
    concert::thread_pool pool{2};
    constexpr int tasks = 2000;
    std::vector<std::atomic<int>> ran(tasks);
    std::vector<concert::future<void>> futures;
    for (int i = 0; i < tasks; ++i) {
        futures.push_back(pool.submit([&ran, i] { ran[static_cast<std::size_t>(i)]++; }));
    }
    std::vector<std::atomic<int>> cancelled(tasks);
    std::vector<std::thread> cancellers;
    for (int c = 0; c < 2; ++c) {
        cancellers.emplace_back([&] {
            for (int i = 0; i < tasks; ++i) {
                if (futures[static_cast<std::size_t>(i)].cancel()) {
                    cancelled[static_cast<std::size_t>(i)]++;
                }
            }
        });
    }
    for (auto& t : cancellers) {
        t.join();
    }
    pool.wait_idle();
    for (std::size_t i = 0; i < tasks; ++i) {
        ASSERT_EQ(ran[i].load() + cancelled[i].load(), 1) << "task " << i;
    }
}

TEST(Promise, CompletesItsFuturesFromAnyThread) {
    concert::promise<std::string> p;
    auto a = p.get_future();
    auto b = p.get_future();
    std::thread setter([&p] { p.set_value("frame 7"); });
    EXPECT_EQ(a.result(), "frame 7");
    EXPECT_EQ(b.result(), "frame 7");
    setter.join();
    EXPECT_THROW(p.set_value("again"), std::future_error);
}

TEST(Promise, DestroyedUnsetItsFuturesThrowBrokenPromise) {
    concert::future<int> f;
    {
        concert::promise<int> p;
        f = p.get_future();
    }
    EXPECT_THROW(f.result(), concert::broken_promise);
}

TEST(Promise, AProducerRacingACancelLearnsItWithoutAnException) {
    concert::promise<double> reply;
    auto f = reply.get_future();
    EXPECT_FALSE(reply.settled());
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(reply.settled());
    EXPECT_FALSE(reply.try_set_value(3.5));
    EXPECT_FALSE(reply.try_set_exception(std::make_exception_ptr(motor_fault())));
    EXPECT_THROW(f.result(), concert::cancelled);
    concert::promise<double> answered;
    EXPECT_TRUE(answered.try_set_value(1.5));
    EXPECT_TRUE(answered.settled());
    EXPECT_EQ(answered.get_future().result(), 1.5);
    EXPECT_THROW(answered.try_set_exception(nullptr), std::invalid_argument);
}

TEST(Promise, ReferencesVoidAndExceptions) {
    int position = 3;
    concert::promise<int&> ref;
    ref.set_value(position);
    EXPECT_EQ(&ref.get_future().result(), &position);
    concert::promise<void> done;
    auto d = done.get_future();
    done.set_value();
    EXPECT_NO_THROW(d.wait());
    concert::promise<int> failing;
    failing.set_exception(std::make_exception_ptr(motor_fault()));
    EXPECT_THROW(failing.get_future().wait(), motor_fault);
    EXPECT_THROW(concert::promise<int>{}.set_exception(nullptr), std::invalid_argument);
    concert::promise<int> moved;
    auto other = std::move(moved);
    EXPECT_THROW(moved.get_future(), std::future_error);  // NOLINT(bugprone-use-after-move)
}

TEST(MoveOut, TheOnlyFutureMovesAMoveOnlyValueOut) {
    auto f = concert::submit([] { return std::make_unique<int>(9); });
    std::unique_ptr<int> frame = std::move(f).result();
    EXPECT_EQ(*frame, 9);
    EXPECT_FALSE(f.valid());  // NOLINT(bugprone-use-after-move): the behaviour under test
}

TEST(MoveOut, ASharedMoveOnlyValueIsAClearErrorAndASharedCopyableOneIsCopied) {
    auto f = concert::submit([] { return std::make_unique<int>(9); });
    auto copy = f;
    try {
        static_cast<void>(std::move(f).result());
        FAIL() << "moved a value out from under another future";
    } catch (const concert::invalid_future& e) {
        EXPECT_NE(std::string(e.what()).find("share"), std::string::npos) << e.what();
    }
    EXPECT_EQ(*copy.result(), 9);
    auto s = concert::submit([] { return std::string("kept"); });
    auto s_copy = s;
    EXPECT_EQ(std::move(s).result(), "kept");
    EXPECT_EQ(s_copy.result(), "kept");
}

TEST(MoveOut, OnATemporaryWaitReturnsTheFutureByValue) {
    const auto& f = concert::submit([] { return 2; }).wait();
    EXPECT_EQ(f.result(), 2);
}

TEST(Unobserved, AFailureNobodyReadIsReportedExactlyOnce) {
    reported_errors errors;
    {
        concert::promise<void> p;
        auto dropped = p.get_future();
        p.set_exception(std::make_exception_ptr(motor_fault()));
    }
    {
        // The future goes first, the task fails later.
        gate g;
        concert::thread_pool pool{1};
        static_cast<void>(pool.submit([&g] {
            if (!concert::async_disabled()) {
                g.wait();
            }
            throw motor_fault();
        }));
        g.open();
        pool.wait_idle();
    }
    const auto messages = concert::testing::descriptions(errors.errors());
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0], "motor fault");
    EXPECT_EQ(messages[1], "motor fault");
}

TEST(Unobserved, AnObservedOrCancelledFailureIsNeverReported) {
    reported_errors errors;
    {
        auto waited = concert::submit([] { throw motor_fault(); });
        EXPECT_THROW(waited.wait(), motor_fault);
        auto continued = concert::submit([] { throw motor_fault(); }).then([] {});
        EXPECT_THROW(continued.wait(), motor_fault);
        auto combined = concert::when_all(concert::submit([] { throw motor_fault(); }));
        EXPECT_THROW(combined.wait(), motor_fault);
        concert::promise<int> never;
        auto cancelled = never.get_future();
        EXPECT_TRUE(cancelled.cancel());
    }
    concert::default_pool().wait_idle();
    EXPECT_TRUE(concert::testing::descriptions(errors.errors()).empty());
}

TEST(Interop, StandardFuturesConvertBothWays) {
    // Under DISABLE, then() on a standard future not ready yet waits for it inline.
    CONCERT_SKIP_WHEN_INLINE();
    concert::promise<int> p;
    std::shared_future<int> standard = p.get_future();
    std::promise<int> std_promise;
    concert::future<int> from_standard = std_promise.get_future();
    auto continued = from_standard.then([](int x) { return x * 2; });
    p.set_value(5);
    std_promise.set_value(6);
    EXPECT_EQ(standard.get(), 5);
    EXPECT_EQ(continued.result(), 12);
}

}  // namespace
