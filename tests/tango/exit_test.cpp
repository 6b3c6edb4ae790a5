// Program exit with Tango calls in flight: a child program (programs/exit_program.cpp) leaves
// moves, an abandoned move and a change forwarding behind, and must exit with 0 well within a
// generous bound, with the device destroyed in main, with the program's statics, or followed by
// Tango::ApiUtil::cleanup() (which hangs after Tango's PUSH_CALLBACK model; the bridge does not
// use it).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <string>

#include <concert/concert.hpp>

#include "../support.hpp"
#include "server_fixture.hpp"

namespace {

auto& motor_server = concert::tango_testing::add_server(CONCERT_MOTOR_SERVER, "test/motor/1");

constexpr int exit_bound_seconds = 60;

concert::testing::child_result run_child(const std::string& mode) {
    // timeout(1) ends a child that hangs, with status 124. The child runs inline too when this
    // test runs with --disable-async. Under AddressSanitizer, the child that calls
    // Tango::ApiUtil::cleanup() is not checked for leaks: Tango 9.3.4's cleanup drops its event
    // consumer without freeing it (what LeakSanitizer lists is ZmqEventConsumer's and the ORB's);
    // the two other children are.
    const auto command =
        fmt::format("{}{}timeout {} '{}' {} '{}' 2>&1",
                    concert::async_disabled() ? "CONCERT_DISABLE_ASYNC=1 " : "",
                    mode == "cleanup" ? "ASAN_OPTIONS=\"${ASAN_OPTIONS:-} detect_leaks=0\" " : "",
                    exit_bound_seconds, CONCERT_TANGO_EXIT_PROGRAM, mode, motor_server.address());
    return concert::testing::run_command(command);
}

class TangoExit : public ::testing::TestWithParam<const char*> {};

TEST_P(TangoExit, AProgramWithCallsInFlightExitsCleanly) {
    const auto child = run_child(GetParam());
    EXPECT_EQ(child.exit_status, 0) << child.output;
    EXPECT_NE(child.output.find(std::string(GetParam()) + ": main returns\n"), std::string::npos)
        << child.output;
}

INSTANTIATE_TEST_SUITE_P(Modes, TangoExit, ::testing::Values("in-main", "static", "cleanup"));

}  // namespace
