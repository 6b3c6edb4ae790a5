// Commands, attributes and their errors through concert::tango::device, on the Tango project's own
// test device server (TangoTest), and calls in flight at once.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <concert/concert.hpp>

#include "server_fixture.hpp"

namespace {

// omniORB runs each asynchronous request on a thread of its client pool (maxClientThreadPoolSize,
// 100 by default). Bounded here before the ORB exists, so that the threads in flight show what
// the bridge itself adds.
constexpr int omniorb_client_threads = 4;
const bool omniorb_configured = [] {
    return ::setenv("ORBmaxClientThreadPoolSize", std::to_string(omniorb_client_threads).c_str(),
                    1) == 0;
}();

auto& tango_test = concert::tango_testing::add_server(CONCERT_TANGO_TEST_SERVER, "sys/tg_test/1");

std::size_t threads_of_this_process() {
    const std::filesystem::directory_iterator tasks("/proc/self/task");
    return static_cast<std::size_t>(std::distance(begin(tasks), end(tasks)));
}

// The concert::tango::error that `f` throws, or a failure.
template <class Future>
concert::tango::error error_of(const Future& f) {
    try {
        f.wait();
    } catch (const concert::tango::error& e) {
        return e;
    }
    ADD_FAILURE() << "the call did not fail with a concert::tango::error";
    return concert::tango::error("none", "the call did not fail", "error_of");
}

class TangoTestDevice : public ::testing::Test {
  protected:
    concert::tango::device dev{tango_test.address()};
};

TEST_F(TangoTestDevice, CommandsReturnTheirOutputAsTheTypeAskedFor) {
    EXPECT_EQ(dev.command<double>("DevDouble", 3.5).result(), 3.5);
    const Tango::DevLong64 large = Tango::DevLong64{1} << 40;
    EXPECT_EQ(dev.command<Tango::DevLong64>("DevLong64", large).result(), large);
    EXPECT_EQ(dev.command<std::string>("DevString", "concert").result(), "concert");
    EXPECT_EQ(dev.command<std::string>("DevString", std::string_view("view")).result(), "view");
    const std::vector<double> values{1.0, -2.5, 1e300};
    EXPECT_EQ(dev.command<std::vector<double>>("DevVarDoubleArray", values).result(), values);
}

TEST_F(TangoTestDevice, AVoidCommandCompletesWithNothing) {
    auto done = dev.command<void>("DevVoid");
    EXPECT_NO_THROW(done.wait());
    EXPECT_TRUE(done.done());
}

TEST_F(TangoTestDevice, AnUntypedCommandGivesTangosDeviceData) {
    Tango::DeviceData input;
    input << 2.25;
    auto output = dev.command("DevDouble", input).result();
    double value = 0;
    output >> value;
    EXPECT_EQ(value, 2.25);
    auto nothing = dev.command("DevVoid").result();
    nothing.reset_exceptions(Tango::DeviceData::isempty_flag);  // is_empty() throws otherwise
    EXPECT_TRUE(nothing.is_empty());
}

TEST_F(TangoTestDevice, AWrittenAttributeReadsBack) {
    dev.write("double_scalar_w", 12.5).wait();
    EXPECT_EQ(dev.read<double>("double_scalar_w").result(), 12.5);
    dev.write("double_scalar_w", -1.0).wait();
    EXPECT_EQ(dev.read<double>("double_scalar_w").result(), -1.0);
}

TEST_F(TangoTestDevice, AnAttributeReadsAsItsTypeOrAsTangosDeviceAttribute) {
    EXPECT_TRUE(std::isfinite(dev.read<double>("double_scalar").result()));
    auto attribute = dev.read<Tango::DeviceAttribute>("double_scalar").result();
    EXPECT_EQ(attribute.get_name(), "double_scalar");
    EXPECT_EQ(attribute.get_type(), Tango::DEV_DOUBLE);
}

TEST_F(TangoTestDevice, AnUnknownCommandFailsWithCommandNotFound) {
    const auto e = error_of(dev.command<double>("NoSuchCommand", 1.0));
    EXPECT_EQ(e.reason(), "API_CommandNotFound");
    EXPECT_EQ(std::string(e.what()), e.reason() + ": " + e.description());
    EXPECT_NE(e.description().find("NoSuchCommand"), std::string::npos) << e.description();
    EXPECT_FALSE(e.where().empty());
    // The whole stack: the device's error first, then what Tango's client added.
    ASSERT_GE(e.stack().size(), 2U);
    EXPECT_EQ(e.stack().front().reason, e.reason());
}

TEST_F(TangoTestDevice, AnUnknownAttributeFailsWithAttrNotFound) {
    EXPECT_EQ(error_of(dev.read<double>("no_such_attribute")).reason(), "API_AttrNotFound");
    EXPECT_EQ(error_of(dev.write("no_such_attribute", 1.0)).reason(), "API_AttrNotFound");
}

TEST_F(TangoTestDevice, AValueOfTheWrongTypeFailsClearly) {
    // Output: a DevString read as a double, a string attribute read as a double.
    EXPECT_EQ(error_of(dev.command<double>("DevString", "text")).reason(),
              "API_IncompatibleCmdArgumentType");
    EXPECT_EQ(error_of(dev.read<double>("string_scalar")).reason(),
              "API_IncompatibleAttrArgumentType");
    // Input: text where the device wants a double.
    EXPECT_EQ(error_of(dev.command<double>("DevDouble", "text")).reason(),
              "API_IncompatibleCmdArgumentType");
}

TEST_F(TangoTestDevice, AHundredCallsInFlightAllCompleteWithoutAThreadEach) {
    ASSERT_TRUE(omniorb_configured);
    dev.command<double>("DevDouble", 0.0).wait();  // the threads the first call starts are up
    const auto threads_before = threads_of_this_process();
    std::vector<concert::future<double>> calls;
    for (int i = 0; i < 100; ++i) {
        calls.push_back(dev.command<double>("DevDouble", static_cast<double>(i)));
    }
    const auto threads_in_flight = threads_of_this_process();
    concert::wait(calls);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(calls[static_cast<std::size_t>(i)].result(), i);
    }
    // At most omniORB's client pool more (and the bridge's one poller, already running).
    EXPECT_LE(threads_in_flight, threads_before + omniorb_client_threads)
        << threads_before << " threads before the calls";
}

TEST(TangoDevice, AnUnreachableDeviceThrowsATangoError) {
    const auto port = concert::tango_testing::free_loopback_port();
    const auto address = "tango://127.0.0.1:" + std::to_string(port) + "/sys/tg_test/1#dbase=no";
    try {
        concert::tango::device dev{address};
        ADD_FAILURE() << "connected to " << address;
    } catch (const concert::tango::error& e) {
        EXPECT_EQ(e.reason(), "API_CantConnectToDevice");
        EXPECT_EQ(std::string(e.what()), e.reason() + ": " + e.description());
    }
}

}  // namespace
