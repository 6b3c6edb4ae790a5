// Two simulated motors move at once through concert::async; a third move fails, and its exception
// surfaces where the program waits for it.
#include <fmt/format.h>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <concert/concert.hpp>

struct motor {
    std::string name;
    double position = 0;
    double limit = 100;

    // A blocking device call, as Concert's device methods are: it returns once the move is done.
    double move_to(double target) {
        if (target > limit) {
            throw std::out_of_range(
                fmt::format("{}: {} mm is beyond the {} mm limit", name, target, limit));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the hardware moving
        position = target;
        return position;
    }
};

int main() {
    motor x{"x-stage"};
    motor y{"y-stage"};
    auto move = concert::async([](motor* m, double target) { return m->move_to(target); });
    static_assert(concert::is_async(move));

    // Both moves run at once; each returns a future at once.
    auto moving_x = move(&x, 10.0);
    auto moving_y = move(&y, 20.0);
    concert::wait(moving_x, moving_y);
    fmt::print("{} at {} mm, {} at {} mm\n", x.name, moving_x.result(), y.name, moving_y.result());

    // A failing move: the exception travels to whoever waits.
    auto too_far = move(&x, 500.0);
    try {
        too_far.wait();
    } catch (const std::out_of_range& e) {
        fmt::print("move failed: {}\n", e.what());
    }
    fmt::print("{} stayed at {} mm\n", x.name, too_far.done() ? x.position : -1.0);
}
