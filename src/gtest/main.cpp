// concert::gtest_main: GoogleTest's main with Concert's --disable-async flag (the analogue of the
// original's test-runner plugin): it sets concert::DISABLE before any test runs.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include <concert/disable.hpp>

int main(int argc, char** argv) {
    // Applies CONCERT_DISABLE_ASYNC from the environment now, so that a test saving and restoring
    // DISABLE never restores a value from before the environment was read.
    static_cast<void>(concert::async_disabled());
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--disable-async") {
            concert::DISABLE.store(true);
        } else {
            rest.push_back(argv[i]);
        }
    }
    int rest_count = static_cast<int>(rest.size());
    rest.push_back(nullptr);
    testing::InitGoogleTest(&rest_count, rest.data());
    return RUN_ALL_TESTS();
}
