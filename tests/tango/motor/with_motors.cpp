// Runs a program against Motor device servers of its own:
//   with_motors COUNT PROGRAM [ARGS...]
// starts COUNT motor servers (device test/motor/1 each) on free loopback ports, waits until each
// answers a ping, runs PROGRAM ARGS... ADDRESS_1 ... ADDRESS_COUNT (PROGRAM found on PATH when it
// has no slash, so that a wrapper such as valgrind can come first), stops the servers by their
// pids, and exits with the program's status (128 + the signal if a signal ended it). Only the
// program writes to stdout, so that its output can be checked; the servers' goes to stderr.
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "device_server.hpp"

extern char** environ;

namespace {

int run(std::vector<std::string> arguments) {
    std::vector<char*> argv;
    for (auto& argument : arguments) {
        argv.push_back(argument.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (const int error = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
        error != 0) {
        throw std::runtime_error("cannot run " + arguments[0] + ": " + std::strerror(error));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
    constexpr int max_motors = 16;
    int count = 0;
    const std::string_view count_text = argc >= 3 ? argv[1] : "";
    const auto [end, error] =
        std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    if (error != std::errc{} || end != count_text.data() + count_text.size() || count < 1 ||
        count > max_motors) {
        std::cerr << "usage: with_motors COUNT PROGRAM [ARGS...] (COUNT from 1 to " << max_motors
                  << ")\n";
        return 2;
    }
    try {
        std::vector<std::unique_ptr<concert::tango_testing::device_server>> motors;
        std::vector<std::string> command(argv + 2, argv + argc);
        for (int i = 0; i < count; ++i) {
            motors.push_back(std::make_unique<concert::tango_testing::device_server>(
                CONCERT_MOTOR_SERVER, "test/motor/1"));
            command.push_back(motors.back()->address());
        }
        return run(std::move(command));
    } catch (const std::exception& e) {
        std::cerr << "with_motors: " << e.what() << '\n';
        return 1;
    }
}
