// Change events as dispatcher messages (concert::tango::device::forward_changes), on the Motor
// device server of motor/: its `position` pushes a change event per step of a motion (5 steps),
// and its Fault command pushes an error event.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <concert/concert.hpp>

#include "change_recorder.hpp"
#include "server_fixture.hpp"

namespace {

using concert::tango_testing::event_timeout;
using concert::tango_testing::recorder;

auto& motor_server = concert::tango_testing::add_server(CONCERT_MOTOR_SERVER, "test/motor/1");

constexpr int steps_per_motion = 5;

class MotorChanges : public ::testing::Test {
  protected:
    // The positions a motion from `start` to `target` passes, as the server computes them.
    static std::vector<double> steps(double start, double target) {
        std::vector<double> positions;
        for (int step = 1; step <= steps_per_motion; ++step) {
            positions.push_back(step == steps_per_motion
                                    ? target
                                    : start + (target - start) * step / steps_per_motion);
        }
        return positions;
    }

    concert::Dispatcher dispatcher;  // first: outlives the forwardings that send to it
    concert::tango::device motor{motor_server.address()};
};

TEST_F(MotorChanges, EveryChangeEventBecomesAMessageWithItsValueAndNoneIsRepeated) {
    const double start = motor.read<double>("position").result();
    const double target = start + 1.0;
    recorder<double> positions(dispatcher, motor, "position");
    const auto arrived = positions.when([target](double p) { return p == target; });
    const auto changes = motor.forward_changes<double>("position", dispatcher);
    EXPECT_EQ(motor.command<double>("Move", target).result(), target);
    ASSERT_TRUE(arrived.wait_for(event_timeout)) << "no event reported the target";
    dispatcher.flush();
    // The current value on subscribing, then one per step; Tango 9.3.4 repeats the first step's.
    auto expected = steps(start, target);
    expected.insert(expected.begin(), start);
    EXPECT_EQ(positions.values(), expected);
}

TEST_F(MotorChanges, AnErrorEventBecomesAnErrorMessage) {
    recorder<concert::tango::error> errors(dispatcher, motor, "position.error");
    recorder<double> positions(dispatcher, motor, "position");
    const auto faulted = errors.when([](const concert::tango::error&) { return true; });
    const double target = motor.read<double>("position").result() + 1.0;
    const auto arrived = positions.when([target](double p) { return p == target; });
    const auto changes = motor.forward_changes<double>("position", dispatcher);
    // A motion first: Tango 9.3.4 may crash unsubscribing soon after its first event following a
    // subscription is an error (measured with Tango alone, subscribe then Fault then unsubscribe:
    // a segmentation fault in EventConsumer::unsubscribe_event in 2 to 25% of runs).
    motor.command<double>("Move", target).wait();
    ASSERT_TRUE(arrived.wait_for(event_timeout));
    motor.command<void>("Fault").wait();
    ASSERT_TRUE(faulted.wait_for(event_timeout)) << "no error event";
    motor.command<void>("Reset").wait();
    dispatcher.flush();
    const auto received = errors.values();
    ASSERT_EQ(received.size(), 1U);
    EXPECT_EQ(received.front().reason(), "Motor_Fault");
    EXPECT_NE(std::string(received.front().what()).find("Motor_Fault: "), std::string::npos);
}

TEST_F(MotorChanges, AValueOfAnotherTypeBecomesAnErrorMessage) {
    recorder<concert::tango::error> errors(dispatcher, motor, "position.error");
    const auto failed = errors.when([](const concert::tango::error&) { return true; });
    recorder<std::string> texts(dispatcher, motor, "position");
    const auto changes = motor.forward_changes<std::string>("position", dispatcher);
    ASSERT_TRUE(failed.wait_for(event_timeout)) << "the current value was not reported";
    dispatcher.flush();
    EXPECT_EQ(errors.values().front().reason(), "API_IncompatibleAttrArgumentType");
    EXPECT_TRUE(texts.values().empty());
}

TEST_F(MotorChanges, NoEventIsSentOnceUnsubscribed) {
    concert::Dispatcher other;
    recorder<double> ended(dispatcher, motor, "position");
    recorder<double> still(other, motor, "position");
    auto ending = motor.forward_changes<double>("position", dispatcher);
    const auto staying = motor.forward_changes<double>("position", other);
    ending.unsubscribe();
    EXPECT_FALSE(ending.active());
    EXPECT_TRUE(staying.active());
    dispatcher.flush();
    const auto before = ended.values().size();
    const double target = motor.read<double>("position").result() + 1.0;
    const auto arrived = still.when([target](double p) { return p == target; });
    motor.command<double>("Move", target).wait();
    // Tango calls both callbacks of each event in turn: the motion's first steps would have
    // reached the unsubscribed one before its last step reached the other.
    ASSERT_TRUE(arrived.wait_for(event_timeout));
    dispatcher.flush();
    EXPECT_EQ(ended.values().size(), before);
    EXPECT_NO_THROW(ending.unsubscribe());  // again: nothing to do
}

TEST_F(MotorChanges, MovingASubscriptionEndsTheOneItReplaces) {
    auto first = motor.forward_changes<double>("position", dispatcher);
    auto second = motor.forward_changes<double>("position", dispatcher);
    first = std::move(second);
    EXPECT_TRUE(first.active());
    EXPECT_FALSE(second.active());  // NOLINT(bugprone-use-after-move): moved-from is empty
    first.unsubscribe();
    EXPECT_FALSE(first.active());
}

TEST_F(MotorChanges, DestroyingTheDeviceEndsItsForwardings) {
    concert::tango::change_subscription outliving;
    {
        concert::tango::device short_lived{motor_server.address()};
        outliving = short_lived.forward_changes<double>("position", dispatcher);
        EXPECT_TRUE(outliving.active());
    }
    EXPECT_FALSE(outliving.active());
    EXPECT_NO_THROW(outliving.unsubscribe());
}

TEST_F(MotorChanges, AnAttributeWithoutChangeEventsCannotBeForwarded) {
    try {
        const auto changes = motor.forward_changes<double>("no_such_attribute", dispatcher);
        ADD_FAILURE() << "subscribed to an unknown attribute";
    } catch (const concert::tango::error& e) {
        EXPECT_FALSE(e.reason().empty());
    }
}

}  // namespace
