// Devices notify each other through the global concert::dispatcher: a motor announces "stopped",
// a camera every "frame"; a logger listens to everything the camera says, and the program waits
// for the motor to stop.
#include <fmt/format.h>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include <concert/concert.hpp>

struct motor {
    std::string name;
    double position = 0;

    // A blocking device call that announces its end.
    void move_to(double target) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the hardware moving
        position = target;
        concert::dispatcher.send(this, "stopped");
    }
};

struct camera {
    std::string name;
    int frames = 0;

    void grab() {
        ++frames;
        concert::dispatcher.send(this, "frame");
    }
};

int main() {
    motor stage{"x-stage"};
    camera cam{"ccd"};

    // Scoped: unsubscribed (and never called again) when they go out of scope.
    concert::scoped_subscription on_stop{concert::dispatcher.subscribe(
        &stage, "stopped",
        [](motor* m) { fmt::print("{} stopped at {} mm\n", m->name, m->position); })};
    concert::scoped_subscription log_camera{concert::dispatcher.subscribe(
        &cam, concert::any_message,
        [](camera* c, std::string_view message) { fmt::print("{}: {}\n", c->name, message); })};

    for (int i = 0; i < 3; ++i) {
        cam.grab();
    }

    // The move runs on the pool; this thread waits for the motor's message meanwhile.
    auto moving = concert::async([](motor* m, double target) { m->move_to(target); })(&stage, 10.0);
    const bool stopped = concert::dispatcher.wait(&stage, "stopped", std::chrono::seconds(1));
    moving.wait();
    concert::dispatcher.flush();  // every handler above has run
    fmt::print("motor {}; camera took {} frames\n", stopped ? "stopped" : "did not stop",
               cam.frames);
}
