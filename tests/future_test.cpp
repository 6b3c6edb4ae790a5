// concert::future: done, wait, result, bounded waits, exceptions with their type, interop with std.
#include <gtest/gtest.h>

#include <atomic>

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include <concert/concert.hpp>

#include "support.hpp"

namespace {

struct motor_fault : std::runtime_error {
    explicit motor_fault(int c) : std::runtime_error("motor fault"), code(c) {}
    int code;
};

TEST(Future, WaitReturnsTheFutureSoResultChains) {
    auto f = concert::submit([] { return 7; });
    EXPECT_EQ(f.wait().result(), 7);
    EXPECT_TRUE(f.done());
}

TEST(Future, ResultCanBeReadManyTimesAndFromCopies) {
    auto f = concert::submit([] { return std::string("frame"); });
    const auto copy = f;
    EXPECT_EQ(f.result(), "frame");
    EXPECT_EQ(f.result(), "frame");
    EXPECT_EQ(copy.result(), "frame");
}

TEST(Future, WaitRethrowsTheOriginalExceptionWithItsDynamicType) {
    auto f = concert::submit([]() -> int { throw motor_fault(42); });
    try {
        f.wait();
        FAIL() << "wait() did not throw";
    } catch (const motor_fault& e) {
        EXPECT_EQ(e.code, 42);
    }
    EXPECT_TRUE(f.done());
}

TEST(Future, ResultRethrowsEveryTimeItIsCalled) {
    auto f = concert::submit([]() -> int { throw motor_fault(1); });
    EXPECT_THROW(f.result(), motor_fault);
    EXPECT_THROW(f.result(), motor_fault);
}

TEST(Future, RethrowsTheSameExceptionObjectNotACopy) {
    auto f = concert::submit([]() -> int { throw motor_fault(3); });
    const void* first = nullptr;
    try {
        f.result();
    } catch (const motor_fault& e) {
        first = &e;
    }
    try {
        f.result();
    } catch (const motor_fault& e) {
        EXPECT_EQ(&e, first);
    }
}

TEST(Future, AValueNotDerivedFromStdExceptionIsRethrownAsIs) {
    auto f = concert::submit([] { throw 17; });
    try {
        f.wait();
        FAIL() << "wait() did not throw";
    } catch (int value) {
        EXPECT_EQ(value, 17);
    }
}

TEST(Future, DroppingAFailedFutureUnreadReportsTheFailureAndDoesNotTerminate) {
    std::atomic<int> reported{0};
    auto previous = concert::set_error_handler(
        [&reported](std::exception_ptr, std::string_view) { reported.fetch_add(1); });
    {
        auto dropped = concert::submit([] { throw motor_fault(5); });
    }
    concert::default_pool().wait_idle();
    concert::set_error_handler(std::move(previous));
    EXPECT_EQ(reported.load(), 1);
    // Still alive, and the pool still works.
    EXPECT_EQ(concert::submit([] { return 1; }).result(), 1);
}

TEST(Future, VoidFutureWaitsAndRethrows) {
    bool ran = false;
    concert::future<void> ok = concert::submit([&ran] { ran = true; });
    ok.wait();
    EXPECT_TRUE(ran);
    concert::future<void> bad = concert::submit([] { throw motor_fault(2); });
    EXPECT_THROW(bad.result(), motor_fault);
}

TEST(Future, ReferenceFutureReferToTheOriginalObject) {
    int position = 3;
    concert::future<int&> f = concert::submit([&position]() -> int& { return position; });
    EXPECT_EQ(&f.result(), &position);
}

TEST(Future, MoveOnlyResultIsHeldAndReadable) {
    auto f = concert::submit([] { return std::make_unique<int>(9); });
    EXPECT_EQ(*f.result(), 9);
}

TEST(Future, WaitForTellsWhetherTheTaskFinished) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    concert::testing::gate gate;
    auto f = pool.submit([&gate] { gate.wait(); });
    EXPECT_FALSE(f.wait_for(std::chrono::milliseconds(1)));
    EXPECT_FALSE(f.wait_until(std::chrono::system_clock::now() + std::chrono::milliseconds(1)));
    EXPECT_FALSE(f.done());
    gate.open();
    EXPECT_TRUE(f.wait_for(std::chrono::hours(1)));
    EXPECT_TRUE(f.done());
}

TEST(Future, BoundedWaitDoesNotRethrow) {
    auto f = concert::submit([] { throw motor_fault(4); });
    EXPECT_TRUE(f.wait_for(std::chrono::hours(1)));
    EXPECT_THROW(f.wait(), motor_fault);
}

TEST(Future, ConvertsToAndFromStandardFutures) {
    std::promise<int> promise;
    concert::future<int> f = promise.get_future();
    std::shared_future<int> standard = f;
    EXPECT_FALSE(f.done());
    promise.set_value(5);
    EXPECT_EQ(standard.get(), 5);
    EXPECT_EQ(f.result(), 5);
}

TEST(Future, ADeferredStandardFutureRunsWhenWaited) {
    concert::future<int> f = std::async(std::launch::deferred, [] { return 8; });
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), 8);
}

TEST(Future, UsingAFutureWithoutStateIsAClearError) {
    concert::future<int> empty;
    EXPECT_FALSE(empty.valid());
    EXPECT_THROW(empty.done(), concert::invalid_future);
    EXPECT_THROW(empty.wait(), concert::invalid_future);
    try {
        empty.result();
        FAIL() << "result() on an empty future did not throw";
    } catch (const concert::invalid_future& e) {
        EXPECT_NE(std::string(e.what()).find("result()"), std::string::npos) << e.what();
    }
}

TEST(Future, AMovedFromFutureHasNoState) {
    auto f = concert::submit([] { return 1; });
    auto g = std::move(f);
    EXPECT_EQ(g.result(), 1);
    EXPECT_FALSE(f.valid());  // NOLINT(bugprone-use-after-move): the behaviour under test
    EXPECT_THROW(f.wait(), concert::invalid_future);
}

}  // namespace
