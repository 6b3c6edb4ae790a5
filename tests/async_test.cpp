// concert::async, the decorator: wrappers that submit each call and return futures; is_async.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <concert/concert.hpp>

namespace {

int add(int a, int b) {
    return a + b;
}

TEST(Async, CallingTheWrapperReturnsAFutureOfTheResult) {
    auto async_add = concert::async(add);
    concert::future<int> f = async_add(2, 3);
    EXPECT_EQ(f.wait().result(), 5);
}

TEST(Async, WrapsLambdasAndRunsOnTheGivenPool) {
    concert::thread_pool pool{1};
    auto on_pool = concert::async(pool, [&pool] { return pool.is_worker_thread(); });
    EXPECT_EQ(on_pool().result(), !concert::async_disabled());
}

TEST(Async, EachCallRunsWithItsOwnArguments) {
    auto square = concert::async([](int x) { return x * x; });
    auto a = square(3);
    auto b = square(4);
    EXPECT_EQ(a.result() + b.result(), 25);
}

TEST(Async, MoveOnlyArgumentsAreForwarded) {
    auto consume = concert::async([](std::unique_ptr<int> p) { return *p; });
    EXPECT_EQ(consume(std::make_unique<int>(3)).result(), 3);
}

TEST(Async, TheWrappedFunctionsExceptionSurfacesAtWait) {
    auto fail = concert::async([] { throw std::out_of_range("beyond the limit"); });
    auto f = fail();
    EXPECT_THROW(f.wait(), std::out_of_range);
}

TEST(Async, TheWrappedFunctionCanStillBeCalledSynchronously) {
    auto async_add = concert::async(add);
    EXPECT_EQ(async_add.function()(1, 1), 2);
}

TEST(Async, RunsOnAnotherThreadUnlessDisabled) {
    auto where = concert::async([] { return std::this_thread::get_id(); });
    const bool same = where().result() == std::this_thread::get_id();
    EXPECT_EQ(same, concert::async_disabled());
}

auto async_add = concert::async(add);
auto plain_lambda = [](int x) { return x; };

static_assert(concert::is_async_v<decltype(async_add)>);
static_assert(concert::is_async_v<const decltype(async_add)&>);
static_assert(!concert::is_async_v<decltype(plain_lambda)>);
static_assert(!concert::is_async_v<decltype(&add)>);
static_assert(concert::is_async(async_add));
static_assert(!concert::is_async(plain_lambda));

TEST(Async, IsAsyncIsTrueExactlyForWrappers) {
    EXPECT_TRUE(concert::is_async(async_add));
    EXPECT_FALSE(concert::is_async(add));
    EXPECT_FALSE(concert::is_async(plain_lambda));
    EXPECT_FALSE(concert::is_async(concert::submit(add, 1, 2)));
}

}  // namespace
