// The child program of tango.exit_test: leaves calls in flight (and abandoned ones) and a change
// forwarding alive when the program ends, and must exit with 0, promptly.
//   exit_program MODE MOTOR_ADDRESS
// MODE: in-main (the device is destroyed as main returns), static (destroyed with the program's
// statics), cleanup (as in-main, then Tango::ApiUtil::cleanup() once the devices are gone).
#include <fmt/format.h>

#include <optional>
#include <string_view>
#include <vector>

#include <concert/concert.hpp>

namespace {

std::optional<concert::tango::device> static_motor;
std::optional<concert::tango::change_subscription> static_changes;

// Moves, a cancelled move, and a forwarding: what is in flight as the program ends.
void leave_work_in_flight(concert::tango::device& motor,
                          std::optional<concert::tango::change_subscription>& changes) {
    changes = motor.forward_changes<double>("position");
    const double start = motor.read<double>("position").result();
    for (int i = 1; i <= 20; ++i) {
        static_cast<void>(motor.command<double>("Move", start + i));
    }
    motor.command<double>("Move", start).cancel();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        fmt::print(stderr, "usage: exit_program in-main|static|cleanup MOTOR_ADDRESS\n");
        return 2;
    }
    const std::string_view mode = argv[1];
    try {
        if (mode == "static") {
            static_motor.emplace(argv[2]);
            leave_work_in_flight(*static_motor, static_changes);
        } else {
            concert::tango::device motor{argv[2]};
            std::optional<concert::tango::change_subscription> changes;
            leave_work_in_flight(motor, changes);
        }
        if (mode == "cleanup") {
            Tango::ApiUtil::cleanup();
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "exit_program: {}\n", e.what());
        return 1;
    }
    fmt::print("{}: main returns\n", mode);
}
