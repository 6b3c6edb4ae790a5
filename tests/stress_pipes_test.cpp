// Bounded stress of the coroutine pipes: chains of buffered stages under a producer faster than its
// consumers, and consumers that fail at random points. Every item arrives once and in order, and
// every failure surfaces exactly once.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <concert/concert.hpp>

namespace {

// Fixed counts, chosen so that the whole file runs in seconds under ThreadSanitizer.
constexpr int fast_producer_items = 20000;
constexpr int failure_rounds = 150;
constexpr int items_per_failure_round = 200;

concert::generator<int> count_to(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}

// Slower than the producer: a little arithmetic per item.
int slow_square(int x) {
    volatile int spin = 0;
    for (int i = 0; i < 200; ++i) {
        spin = spin + i;
    }
    return x * x;
}

TEST(StressPipes, ChainedBufferedStagesUnderAFastProducerDeliverEveryItemOnceInOrder) {
    for (const std::size_t capacity : {1, 2, 3, 7, 64}) {
        std::vector<int> received;
        received.reserve(fast_producer_items);
        concert::inject(count_to(fast_producer_items),
                        concert::buffered<int>(
                            concert::map(slow_square,
                                         concert::buffered(concert::append_to(received), capacity)),
                            capacity));
        ASSERT_EQ(received.size(), static_cast<std::size_t>(fast_producer_items));
        for (int i = 0; i < fast_producer_items; ++i) {
            ASSERT_EQ(received[static_cast<std::size_t>(i)], i * i) << "capacity " << capacity;
        }
    }
}

struct frame_fault : std::runtime_error {
    explicit frame_fault(int at) : std::runtime_error(std::to_string(at)), at(at) {}
    int at;
};

TEST(StressPipes, ConsumersFailingAtRandomPointsSurfaceTheirExceptionExactlyOnce) {
    std::mt19937 random(2024);
    std::uniform_int_distribution<int> failure_point(0, items_per_failure_round - 1);
    std::uniform_int_distribution<std::size_t> capacity(1, 8);
    for (int round = 0; round < failure_rounds; ++round) {
        const int fail_at = failure_point(random);
        const bool chained = round % 2 == 1;
        std::vector<int> received;
        const auto consume = [&received, fail_at](int x) {
            if (x == fail_at) {
                throw frame_fault(x);
            }
            received.push_back(x);
        };
        auto stage = chained ? concert::buffered<int>(concert::buffered(consume, capacity(random)),
                                                      capacity(random))
                             : concert::buffered(consume, capacity(random));
        int faults = 0;
        int refused = 0;
        const auto count_fault = [&](const frame_fault& fault) {
            EXPECT_EQ(fault.at, fail_at);
            ++faults;
        };
        for (int i = 0; i < items_per_failure_round; ++i) {
            try {
                stage.send(i);
            } catch (const frame_fault& fault) {
                count_fault(fault);
            } catch (const concert::consumer_finished&) {
                ++refused;
            }
        }
        try {
            stage.close();
        } catch (const frame_fault& fault) {
            count_fault(fault);
        }
        EXPECT_EQ(faults, 1) << "round " << round;
        EXPECT_LT(refused, items_per_failure_round - fail_at) << "round " << round;
        ASSERT_EQ(received.size(), static_cast<std::size_t>(fail_at)) << "round " << round;
        for (int i = 0; i < fail_at; ++i) {
            ASSERT_EQ(received[static_cast<std::size_t>(i)], i);
        }
    }
}

}  // namespace
