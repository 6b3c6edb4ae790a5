// A scan over two remote motors: Tango devices in device servers that may run on other hosts. At
// each point both motors move at once (two Move commands in flight, one concert::wait), and the
// scan goes on once each motor's change events report its target.
//   remote_scan MOTOR_ADDRESS MOTOR_ADDRESS
// for example tango://127.0.0.1:PORT/test/motor/1#dbase=no (the test suite's Motor server,
// tests/tango/motor, has an attribute `position` and a command Move).
#include <fmt/format.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>

#include <concert/concert.hpp>
#include <concert/tango.hpp>

namespace {

// Completes a future when a motor's position events report the position it is waiting for, or
// fails it when an event reports an error. Thread-safe: the dispatcher's delivery thread reports,
// the scan waits.
class arrival {
  public:
    concert::future<void> expect(double target) {
        const std::lock_guard lock(mutex_);
        target_ = target;
        reached_ = concert::promise<void>();
        return reached_.get_future();
    }

    void report(double position) {
        const std::lock_guard lock(mutex_);
        if (position == target_) {
            reached_.try_set_value();
        }
    }

    void report(const concert::tango::error& error) {
        const std::lock_guard lock(mutex_);
        reached_.try_set_exception(std::make_exception_ptr(error));
    }

  private:
    std::mutex mutex_;
    double target_ = std::nan("");
    concert::promise<void> reached_;
};

// The subscriptions that make `motor`'s position messages, and those of its error events, reach
// `arrival`.
struct tracking {
    concert::scoped_subscription positions;
    concert::scoped_subscription errors;
};

tracking track(concert::Dispatcher& dispatcher, concert::tango::device& motor, arrival& arrival) {
    return {concert::scoped_subscription(
                dispatcher.subscribe(&motor, "position",
                                     [&arrival](concert::tango::device*, const double& position) {
                                         arrival.report(position);
                                     })),
            concert::scoped_subscription(dispatcher.subscribe(
                &motor, "position.error",
                [&arrival](concert::tango::device*, const concert::tango::error& error) {
                    arrival.report(error);
                }))};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: remote_scan MOTOR_ADDRESS MOTOR_ADDRESS\n");
        return 2;
    }
    constexpr auto event_timeout = std::chrono::seconds(10);
    try {
        concert::Dispatcher dispatcher;
        arrival a_arrival;
        arrival b_arrival;
        concert::tango::device a{argv[1]};
        concert::tango::device b{argv[2]};
        const auto a_tracking = track(dispatcher, a, a_arrival);
        const auto b_tracking = track(dispatcher, b, b_arrival);
        // Every change event of `position` becomes a message from the device, with the value.
        const auto a_changes = a.forward_changes<double>("position", dispatcher);
        const auto b_changes = b.forward_changes<double>("position", dispatcher);

        for (int point = 1; point <= 3; ++point) {
            const double a_target = point;
            const double b_target = 2.0 * point;
            const auto a_reached = a_arrival.expect(a_target);
            const auto b_reached = b_arrival.expect(b_target);
            const auto a_moved = a.command<double>("Move", a_target);
            const auto b_moved = b.command<double>("Move", b_target);
            concert::wait(a_moved, b_moved);  // both motors move at once
            if (!a_reached.wait_for(event_timeout) || !b_reached.wait_for(event_timeout)) {
                std::fprintf(stderr, "remote_scan: no change event reported the target\n");
                return 1;
            }
            concert::wait(a_reached, b_reached);  // rethrows an error event
            fmt::print("point {}: a at {:.1f}, b at {:.1f}\n", point, a_moved.result(),
                       b_moved.result());
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "remote_scan: {}\n", e.what());
        return 1;
    }
    fmt::print("scan done\n");
}
