// concert::wait: waits for every future, then rethrows the first exception in argument order.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <stdexcept>
#include <vector>

#include <concert/concert.hpp>

namespace {

struct first_error : std::runtime_error {
    first_error() : std::runtime_error("first") {}
};
struct second_error : std::runtime_error {
    second_error() : std::runtime_error("second") {}
};

TEST(Wait, WaitsForFuturesOfDifferentTypes) {
    auto a = concert::submit([] { return 1; });
    auto b = concert::submit([] {});
    auto c = concert::submit([] { return 2.5; });
    concert::wait(a, b, c);
    EXPECT_TRUE(a.done());
    EXPECT_TRUE(b.done());
    EXPECT_TRUE(c.done());
}

TEST(Wait, RethrowsTheFirstExceptionInArgumentOrder) {
    auto ok = concert::submit([] { return 1; });
    auto second = concert::submit([]() -> int { throw second_error(); });
    auto first = concert::submit([]() -> int { throw first_error(); });
    EXPECT_THROW(concert::wait(ok, first, second), first_error);
    EXPECT_THROW(concert::wait(ok, second, first), second_error);
}

TEST(Wait, DoesNotReturnBeforeEveryTaskFinishedEvenWhenOneFailedEarly) {
    std::latch failed(1);
    std::atomic<bool> slow_finished{false};
    auto fails = concert::submit([&failed] {
        failed.count_down();
        throw first_error();
    });
    auto slow = concert::submit([&] {
        failed.wait();
        slow_finished = true;
    });
    EXPECT_THROW(concert::wait(fails, slow), first_error);
    EXPECT_TRUE(slow_finished);
}

TEST(Wait, WaitsForARangeAndRethrowsItsFirstException) {
    std::vector<concert::future<int>> futures;
    for (int i = 0; i < 20; ++i) {
        futures.push_back(concert::submit([i] {
            if (i == 7) {
                throw first_error();
            }
            if (i == 12) {
                throw second_error();
            }
            return i;
        }));
    }
    EXPECT_THROW(concert::wait(futures), first_error);
    for (const auto& f : futures) {
        EXPECT_TRUE(f.done());
    }
}

TEST(Wait, AFutureWithoutStateThrowsOnlyOnceEveryRunningTaskFinished) {
    std::latch started(1);
    std::atomic<bool> finished{false};
    int written_by_task = 0;  // a local of the caller that the task writes
    concert::future<void> invalid;
    auto running = concert::submit([&] {
        started.count_down();
        written_by_task = 42;
        finished = true;
    });
    EXPECT_THROW(concert::wait(invalid, running), concert::invalid_future);
    EXPECT_TRUE(finished);
    EXPECT_EQ(written_by_task, 42);
    std::vector<concert::future<void>> range{invalid, running};
    EXPECT_THROW(concert::wait(range), concert::invalid_future);
}

TEST(Wait, AnEmptyRangeReturnsAtOnce) {
    std::vector<concert::future<void>> none;
    EXPECT_NO_THROW(concert::wait(none));
}

}  // namespace
