// Commands, attributes and their errors on the Tango project's own test device server (TangoTest),
// through concert::tango::device.
#include <gtest/gtest.h>

#include <concert/tango.hpp>

#include "server_fixture.hpp"

namespace {

auto& tango_test = concert::tango_testing::add_server(CONCERT_TANGO_TEST_SERVER, "sys/tg_test/1");

TEST(TangoCommands, ADoubleCommandReturnsItsArgument) {
    concert::tango::device dev{tango_test.address()};
    EXPECT_EQ(dev.command<double>("DevDouble", 3.5).result(), 3.5);
}

}  // namespace
