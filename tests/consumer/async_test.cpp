// A consumer's device test on concert::gtest_main, run with --disable-async. It also proves that
// the consumer and a shared libconcert see one DISABLE and one error handler: the dispatcher's
// send (compiled into the library) delivers inline and reports to the handler set here.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string_view>
#include <thread>

#include <concert/concert.hpp>

TEST(Consumer, DisableAsyncRunsEverySubmitInline) {
    ASSERT_TRUE(concert::DISABLE.load());
    const auto caller = std::this_thread::get_id();
    auto f = concert::submit([] { return std::this_thread::get_id(); });
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), caller);
}

TEST(Consumer, TheLibrarySharesDisableAndTheErrorHandler) {
    const int sender = 0;
    std::thread::id delivered_on;
    int reported = 0;
    auto previous = concert::set_error_handler(
        [&reported](std::exception_ptr, std::string_view) { ++reported; });
    concert::scoped_subscription s{concert::dispatcher.subscribe(&sender, "fail", [&](const int*) {
        delivered_on = std::this_thread::get_id();
        throw std::runtime_error("handler failed");
    })};
    concert::dispatcher.send(&sender, "fail");
    concert::set_error_handler(previous);
    EXPECT_EQ(delivered_on, std::this_thread::get_id());
    EXPECT_EQ(reported, 1);
}
