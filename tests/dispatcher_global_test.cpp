// The global concert::dispatcher: usable from static initialisers of other translation units, and
// through program exit, with messages in flight and with sends after it shut down.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include <concert/concert.hpp>

namespace {

constexpr int exit_code_all_delivered = 3;
constexpr int exit_code_messages_lost = 4;
constexpr int messages_in_flight = 10'000;

std::atomic<int> delivered_before_exit{0};
std::atomic<bool> send_late{false};

// Defined before the first use of the global dispatcher below, so destroyed after its shutdown at
// exit: its destructor stands for a device that still sends during static destruction.
struct late_sender {
    late_sender() = default;
    late_sender(const late_sender&) = delete;
    late_sender& operator=(const late_sender&) = delete;
    ~late_sender() {
        if (send_late) {
            concert::dispatcher.send(this, "late");
        }
    }
};
late_sender late;

// A static initialiser of this translation unit subscribes and sends.
std::atomic<int> static_init_deliveries{0};
const int sender_at_static_init = 0;
const bool used_at_static_init = [] {
    concert::dispatcher.subscribe(&sender_at_static_init, "init",
                                  [](const void*) { ++static_init_deliveries; });
    concert::dispatcher.send(&sender_at_static_init, "init");
    return true;
}();

TEST(GlobalDispatcher, WorksFromAStaticInitialiser) {
    ASSERT_TRUE(used_at_static_init);
    concert::dispatcher.flush();
    EXPECT_EQ(static_init_deliveries, 1);
}

// The child exits with messages still queued; the late send (after the dispatcher shut down) proves
// everything before it was delivered by ending the process with a code that says so.
void exit_with_messages_in_flight() {
    const int motor = 0;
    concert::dispatcher.subscribe(&motor, "step", [](const void*) {
        volatile int work = 0;
        for (int i = 0; i < 1000; ++i) {
            work = work + i;
        }
        ++delivered_before_exit;
    });
    concert::dispatcher.subscribe(&late, "late", [](const void*) {
        std::_Exit(delivered_before_exit == messages_in_flight ? exit_code_all_delivered
                                                               : exit_code_messages_lost);
    });
    for (int i = 0; i < messages_in_flight; ++i) {
        concert::dispatcher.send(&motor, "step");
    }
    send_late = true;
    std::exit(0);
}

TEST(GlobalDispatcherDeathTest, ExitDeliversMessagesInFlightAndLateSendsRunInline) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(exit_with_messages_in_flight(), testing::ExitedWithCode(exit_code_all_delivered),
                "");
}

}  // namespace
