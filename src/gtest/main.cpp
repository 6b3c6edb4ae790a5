// concert::gtest_main: GoogleTest's main with Concert's --disable-async flag (the analogue of the
// original's test-runner plugin): it sets concert::DISABLE before any test runs.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include <concert/disable.hpp>

int main(int argc, char** argv) {
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
