// CONCERT_DISABLE_ASYNC defined for the whole program: every submit runs inline and no thread
// starts.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>

#include <concert/concert.hpp>

static_assert(concert::async_compiled_out);

namespace {

int thread_count() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Threads:", 0) == 0) {
            return std::stoi(line.substr(8));
        }
    }
    return -1;
}

TEST(CompiledOut, SubmitRunsInlineOnTheCallersThread) {
    const auto caller = std::this_thread::get_id();
    auto f = concert::submit([] { return std::this_thread::get_id(); });
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), caller);
}

TEST(CompiledOut, AnExplicitPoolStartsNoThread) {
    concert::thread_pool pool{4};
    EXPECT_EQ(pool.size(), 4u);
    auto f = pool.submit([] { return 42; });
    EXPECT_EQ(f.result(), 42);
    auto wrapped = concert::async(pool, [](int x) { return x * 2; });
    EXPECT_EQ(wrapped(21).result(), 42);
    EXPECT_EQ(thread_count(), 1);
}

}  // namespace
