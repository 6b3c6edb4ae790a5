// Calls that take time, on Motor device servers of motor/ (Move takes 5 steps of `step_time`):
// cancelling one in flight, two devices moving at once, a device's own failure.
#include <gtest/gtest.h>

#include <string>

#include <concert/concert.hpp>

#include "change_recorder.hpp"
#include "server_fixture.hpp"

namespace {

auto& motor_a = concert::tango_testing::add_server(CONCERT_MOTOR_SERVER, "test/motor/1");
auto& motor_b = concert::tango_testing::add_server(CONCERT_MOTOR_SERVER, "test/motor/1");

// Makes each step of `motor`'s motions take `seconds` while it lives.
class step_time {
  public:
    step_time(concert::tango::device& motor, double seconds)
        : motor_(motor), previous_(motor.read<double>("step_time").result()) {
        motor_.write("step_time", seconds).wait();
    }
    ~step_time() { motor_.write("step_time", previous_).wait(); }
    step_time(const step_time&) = delete;
    step_time& operator=(const step_time&) = delete;

  private:
    concert::tango::device& motor_;
    double previous_;
};

TEST(TangoMotion, ACancelledCallThrowsCancelledAndItsLateReplyIsDropped) {
    concert::Dispatcher dispatcher;  // first: outlives the forwarding that sends to it
    concert::tango::device motor{motor_a.address()};
    const double target = motor.read<double>("position").result() + 1.0;
    const step_time slow(motor, 0.2);  // a motion of a second
    concert::tango_testing::recorder<double> positions(dispatcher, motor, "position");
    const auto ended = positions.when([target](double p) { return p == target; });
    const auto changes = motor.forward_changes<double>("position", dispatcher);
    auto moving = motor.command<double>("Move", target);
    const bool cancelled = moving.cancel();
    // The motion goes on in the server, and its last change event tells when it has ended. A read
    // would not: Tango sends each asynchronous request from a thread of its own, so a read sent
    // after the Move may reach the device before it.
    ASSERT_TRUE(ended.wait_for(concert::tango_testing::event_timeout)) << "the motion did not end";
    if (concert::async_disabled()) {
        // Every call is made synchronously: the motion was over before cancel().
        EXPECT_FALSE(cancelled);
        EXPECT_EQ(moving.result(), target);
    } else {
        EXPECT_TRUE(cancelled);
        EXPECT_THROW(moving.wait(), concert::cancelled);
    }
    // The device goes on after the dropped reply.
    EXPECT_EQ(motor.command<double>("Move", target + 1.0).result(), target + 1.0);
}

TEST(TangoMotion, TwoDevicesMoveAtOnceAndOneWaitWaitsForBoth) {
    concert::tango::device a{motor_a.address()};
    concert::tango::device b{motor_b.address()};
    const double a_target = a.read<double>("position").result() + 1.0;
    const double b_target = b.read<double>("position").result() + 2.0;
    const auto a_moved = a.command<double>("Move", a_target);
    const auto b_moved = b.command<double>("Move", b_target);
    concert::wait(a_moved, b_moved);
    EXPECT_EQ(a_moved.result(), a_target);
    EXPECT_EQ(b_moved.result(), b_target);
}

TEST(TangoMotion, ADevicesOwnFailureReachesTheFuture) {
    concert::tango::device motor{motor_a.address()};
    try {
        motor.command<void>("Fail").wait();
        ADD_FAILURE() << "Fail did not fail";
    } catch (const concert::tango::error& e) {
        EXPECT_EQ(e.reason(), "Motor_Fault");
        EXPECT_EQ(e.where(), "Motor::fail_command");
    }
}

TEST(TangoMotion, ADeviceDestroyedWithCallsInFlightWaitsForTheirReplies) {
    concert::future<double> moved;
    double target = 0;
    {
        concert::tango::device motor{motor_a.address()};
        target = motor.read<double>("position").result() + 1.0;
        moved = motor.command<double>("Move", target);
    }
    EXPECT_TRUE(moved.done());
    EXPECT_EQ(moved.result(), target);
}

}  // namespace
