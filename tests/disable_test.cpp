// DISABLE: with the runtime flag set, every submit runs inline on the caller's thread and returns a
// finished future holding the value or the exception, exactly as the pool would.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include <concert/concert.hpp>

namespace {

// Sets DISABLE for one test and restores what it was (the suite also runs with --disable-async).
class Disabled : public ::testing::Test {
  protected:
    void SetUp() override { previous_ = concert::DISABLE.exchange(true); }
    void TearDown() override { concert::DISABLE.store(previous_); }

  private:
    bool previous_ = false;
};

TEST_F(Disabled, SubmitRunsOnTheCallersThreadAndReturnsAFinishedFuture) {
    const auto caller = std::this_thread::get_id();
    concert::thread_pool pool{2};
    auto on_pool = pool.submit([] { return std::this_thread::get_id(); });
    auto on_default = concert::submit([] { return std::this_thread::get_id(); });
    auto wrapped = concert::async([] { return std::this_thread::get_id(); })();
    for (const auto& f : {on_pool, on_default, wrapped}) {
        EXPECT_TRUE(f.done());
        EXPECT_EQ(f.result(), caller);
    }
}

TEST_F(Disabled, TheExceptionIsHeldInTheFutureNotThrownBySubmit) {
    concert::future<int> f;
    EXPECT_NO_THROW(f = concert::submit([]() -> int { throw std::domain_error("inline"); }));
    EXPECT_TRUE(f.done());
    EXPECT_THROW(f.wait(), std::domain_error);
}

TEST_F(Disabled, PostRunsInlineAndReportsItsException) {
    int ran = 0;
    concert::post([&ran] { ++ran; });
    EXPECT_EQ(ran, 1);
    int reported = 0;
    auto previous =
        concert::set_error_handler([&](std::exception_ptr, std::string_view) { ++reported; });
    concert::post([] { throw std::runtime_error("posted"); });
    concert::set_error_handler(previous);
    EXPECT_EQ(reported, 1);
}

TEST_F(Disabled, NestedSubmitsRunInline) {
    auto outer = concert::submit([] { return concert::submit([] { return 2; }).result() + 1; });
    EXPECT_EQ(outer.result(), 3);
}

TEST(DisableFlag, MatchesTheCommandLineOfThisRun) {
    // gtest_main sets the flag for --disable-async; the suite runs both ways.
    const bool inline_run = concert::async_disabled();
    const bool ran_inline = concert::submit([] { return std::this_thread::get_id(); }).result() ==
                            std::this_thread::get_id();
    EXPECT_EQ(ran_inline, inline_run);
}

}  // namespace
