// Messages with values: a motor announces its position with the number, a display takes it, and a
// logger that takes no value still sees the message.
#include <cstdio>
#include <string_view>

#include <concert/concert.hpp>

struct motor {
    const char* name;
};

void show(motor* m, double position) {
    std::printf("%s at %.1f mm\n", m->name, position);
}

void log(motor* m, std::string_view message) {
    std::printf("log: %s sent %.*s\n", m->name, static_cast<int>(message.size()), message.data());
}

int main() {
    motor stage{"stage"};
    concert::Dispatcher dispatcher;
    // [values]
    dispatcher.subscribe(&stage, "position",
                         [](motor* m, const double& position) { show(m, position); });
    dispatcher.subscribe(&stage, concert::any_message,
                         [](motor* m, std::string_view message) { log(m, message); });  // no value
    dispatcher.send(&stage, "position", 3.5);
    // [values]
    dispatcher.flush();
}
