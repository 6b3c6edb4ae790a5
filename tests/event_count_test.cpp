// detail::event_count, the one parking primitive: no lost wake-up, timed waits that give up, and
// notify_all reaching every sleeper.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <concert/detail/event_count.hpp>

namespace {

using concert::detail::event_count;
using namespace std::chrono_literals;

// Sleeps on `ec` until `condition` holds, as every user of an event count does.
void wait_for_condition(event_count& ec, const std::atomic<bool>& condition) {
    while (!condition.load()) {
        const auto key = ec.prepare_wait();
        if (condition.load()) {
            ec.cancel_wait();
            break;
        }
        ec.wait(key);
    }
}

TEST(EventCount, ANotifyBetweenPrepareAndWaitIsNotLost) {
    event_count ec;
    const auto key = ec.prepare_wait();
    EXPECT_TRUE(ec.has_waiters());
    ec.notify_one();
    ec.wait(key);  // returns at once: the epoch moved
    EXPECT_FALSE(ec.has_waiters());
}

TEST(EventCount, ATimedWaitWithNoNotifyGivesUpAtItsDeadline) {
    event_count ec;
    const auto start = std::chrono::steady_clock::now();
    const auto key = ec.prepare_wait();
    EXPECT_FALSE(ec.wait_until(key, start + 5ms));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);
    EXPECT_FALSE(ec.has_waiters());
}

TEST(EventCount, NotifyAllWakesEverySleeper) {
    event_count ec;
    std::atomic<bool> go{false};
    std::atomic<int> woken{0};
    std::vector<std::thread> sleepers;
    for (int i = 0; i < 8; ++i) {
        sleepers.emplace_back([&] {
            wait_for_condition(ec, go);
            woken.fetch_add(1);
        });
    }
    go.store(true);
    ec.notify_all();
    for (auto& t : sleepers) {
        t.join();
    }
    EXPECT_EQ(woken.load(), 8);
}

TEST(EventCount, PingPongOfAHundredThousandHandOffsLosesNone) {
    event_count to_b;
    event_count to_a;
    std::atomic<int> turn{0};  // even: A's turn, odd: B's
    constexpr int rounds = 100'000;
    std::thread b([&] {
        for (int i = 0; i < rounds; ++i) {
            while (turn.load() % 2 == 0) {
                const auto key = to_b.prepare_wait();
                if (turn.load() % 2 != 0) {
                    to_b.cancel_wait();
                    break;
                }
                to_b.wait(key);
            }
            turn.fetch_add(1);
            to_a.notify_one();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        while (turn.load() % 2 != 0) {
            const auto key = to_a.prepare_wait();
            if (turn.load() % 2 == 0) {
                to_a.cancel_wait();
                break;
            }
            to_a.wait(key);
        }
        turn.fetch_add(1);
        to_b.notify_one();
    }
    b.join();
    EXPECT_EQ(turn.load(), 2 * rounds);
}

TEST(EventCount, NotifyWithoutWaitersChangesNothing) {
    event_count ec;
    ec.notify_one();
    ec.notify_all();
    const auto key = ec.prepare_wait();
    EXPECT_FALSE(ec.wait_until(key, std::chrono::steady_clock::now()));
}

}  // namespace
