// Program exit with work in flight: a child process leaves tasks queued on the global pool and
// messages in the global dispatcher, returns from main, and must exit cleanly having run them all.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <string>

#include <concert/concert.hpp>

#include "support.hpp"

namespace {

// The child runs inline too when this test runs with --disable-async.
std::string child_command(const char* order) {
    return fmt::format("{}'{}' {} 2>&1",
                       concert::async_disabled() ? "CONCERT_DISABLE_ASYNC=1 " : "",
                       CONCERT_EXIT_PROGRAM, order);
}

TEST(Exit, GlobalPoolAndDispatcherRunAllWorkInFlightAtExitWhicheverWasCreatedFirst) {
    for (const char* order : {"pool-first", "dispatcher-first"}) {
        const auto child = concert::testing::run_command(child_command(order));
        EXPECT_EQ(child.exit_status, 0) << order << ":\n" << child.output;
        // 200 posted tasks and one submitted whose future was dropped; each sent one message.
        EXPECT_NE(child.output.find("ran=201 handled=201\n"), std::string::npos) << order << ":\n"
                                                                                 << child.output;
        EXPECT_NE(child.output.find("concert: unhandled exception in a fire-and-forget task "
                                    "posted at exit_program.cpp:"),
                  std::string::npos)
            << order << ":\n"
            << child.output;
        EXPECT_NE(child.output.find(": shutter jammed at exit"), std::string::npos)
            << order << ":\n"
            << child.output;
    }
}

TEST(Exit, AMessageLoopIteratesAtExitAndAfterTheGlobalDispatcherShutDown) {
    const auto child = concert::testing::run_command(child_command("stepping"));
    EXPECT_EQ(child.exit_status, 0) << child.output;
    // Two chains of 50,000 steps: one delivered by the shutdown at exit, one inline after it.
    EXPECT_NE(child.output.find("steps=100000\n"), std::string::npos) << child.output;
}

TEST(Exit, TheDefaultPoolServesStaticDestructorsAndTheDispatchersLastDeliveries) {
    const auto child = concert::testing::run_command(child_command("late-users"));
    EXPECT_EQ(child.exit_status, 0) << child.output;
    EXPECT_NE(child.output.find("late submit=7 jobs=100\n"), std::string::npos) << child.output;
}

}  // namespace
