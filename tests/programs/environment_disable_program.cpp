// Run by ctest with CONCERT_DISABLE_ASYNC set: a submit made by a static initialiser, before main,
// must already see the environment. argv[1] says where the task must have run: "inline" (on the
// thread running the static initialisers, which is main's) or "pool" (another thread).
#include <cstdio>
#include <string_view>
#include <thread>

#include <concert/concert.hpp>

namespace {

const std::thread::id ran_on = concert::submit([] { return std::this_thread::get_id(); }).result();

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fputs("usage: environment_disable_program inline|pool\n", stderr);
        return 2;
    }
    const bool expect_inline = std::string_view(argv[1]) == "inline";
    const bool ran_inline = ran_on == std::this_thread::get_id();
    std::printf("static-init submit ran %s, DISABLE is %s\n", ran_inline ? "inline" : "on the pool",
                concert::DISABLE.load() ? "true" : "false");
    return ran_inline == expect_inline && concert::DISABLE.load() == expect_inline ? 0 : 1;
}
