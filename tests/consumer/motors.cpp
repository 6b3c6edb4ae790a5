// A consumer's program: two moves at once through concert::async, and a message through the global
// dispatcher.
#include <chrono>
#include <cstdio>

#include <concert/concert.hpp>

static_assert(CONCERT_VERSION >= 100, "concert-cpp 0.1 or later");

struct motor {
    double position = 0;

    double move_to(double target) {
        position = target;
        concert::dispatcher.send(this, "stopped");
        return position;
    }
};

int main() {
    motor x;
    motor y;
    int stops = 0;
    concert::scoped_subscription counting{
        concert::dispatcher.subscribe(&y, "stopped", [&stops](motor*) { ++stops; })};
    auto move = concert::async([](motor* m, double target) { return m->move_to(target); });
    auto moving_x = move(&x, 10.0);
    auto moving_y = move(&y, 20.0);
    concert::wait(moving_x, moving_y);
    concert::dispatcher.flush();
    std::printf("x at %g, y at %g; stopped %d\n", moving_x.result(), moving_y.result(), stops);
}
