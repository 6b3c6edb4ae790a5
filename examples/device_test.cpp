// A user's own device test: GoogleTest on concert::gtest_main. Run it as is, and with
// --disable-async (Concert's test-runner flag), which runs every asynchronous call inline so that a
// failure shows up on the test's own stack.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include <concert/concert.hpp>

// [device]
struct shutter {
    bool open = false;

    // A blocking device call.
    void set_open(bool value) {
        if (value && jammed) {
            throw std::runtime_error("the shutter is jammed");
        }
        open = value;
    }

    bool jammed = false;
};

const auto set_open = concert::async([](shutter* s, bool value) { s->set_open(value); });

TEST(Shutter, OpensAsynchronously) {
    shutter s;
    set_open(&s, true).wait();
    EXPECT_TRUE(s.open);
}

TEST(Shutter, AJammedShutterFailsWhereTheTestWaits) {
    shutter s{.jammed = true};
    EXPECT_THROW(set_open(&s, true).wait(), std::runtime_error);
    EXPECT_FALSE(s.open);
}

TEST(Shutter, UnderDisableAsyncTheCallRunsOnTheTestsThread) {
    if (!concert::async_disabled()) {
        GTEST_SKIP() << "run with --disable-async";
    }
    const auto test_thread = std::this_thread::get_id();
    auto where = concert::submit([] { return std::this_thread::get_id(); });
    EXPECT_TRUE(where.done());
    EXPECT_EQ(where.result(), test_thread);
}
// [device]
