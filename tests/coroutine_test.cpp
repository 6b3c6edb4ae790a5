#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <concert/coroutine.hpp>
#include <concert/errors.hpp>

namespace {

concert::coroutine<int> collect(std::vector<int>& into) {
    for (;;) {
        into.push_back(co_await concert::receive);
    }
}

// Restores the error handler a test replaced.
struct error_handler_guard {
    concert::error_handler previous;
    ~error_handler_guard() { concert::set_error_handler(std::move(previous)); }
};

TEST(Coroutine, CreationRunsTheBodyUpToTheFirstReceive) {
    std::vector<std::string> log;
    auto make = [&]() -> concert::coroutine<int> {
        log.emplace_back("primed");
        for (;;) {
            log.push_back(std::to_string(co_await concert::receive));
        }
    };
    auto consumer = make();
    EXPECT_EQ(log, (std::vector<std::string>{"primed"}));
    consumer.send(7);
    EXPECT_EQ(log, (std::vector<std::string>{"primed", "7"}));
}

TEST(Coroutine, KeepsStateAcrossItems) {
    double mean = 0;
    auto average = [&]() -> concert::coroutine<double> {
        double sum = 0;
        for (int n = 1;; ++n) {
            sum += co_await concert::receive;
            mean = sum / n;
        }
    };
    auto consumer = average();
    for (double x : {1.0, 2.0, 6.0}) {
        consumer.send(x);
    }
    EXPECT_DOUBLE_EQ(mean, 3.0);
}

TEST(Coroutine, SendMovesNonCopyableItems) {
    std::vector<std::unique_ptr<int>> kept;
    auto keep = [&]() -> concert::coroutine<std::unique_ptr<int>> {
        for (;;) {
            kept.push_back(co_await concert::receive);
        }
    };
    auto consumer = keep();
    auto item = std::make_unique<int>(5);
    consumer.send(std::move(item));
    EXPECT_EQ(item, nullptr);
    ASSERT_EQ(kept.size(), 1U);
    EXPECT_EQ(*kept[0], 5);
}

// Counts copies and moves of itself.
struct tally {
    int* copies;
    int* moves;
    tally(int* c, int* m) : copies(c), moves(m) {}
    tally(const tally& other) : copies(other.copies), moves(other.moves) { ++*copies; }
    tally(tally&& other) noexcept : copies(other.copies), moves(other.moves) { ++*moves; }
    tally& operator=(const tally&) = delete;
    tally& operator=(tally&&) = delete;
    ~tally() = default;
};

TEST(Coroutine, SendOfAnLvalueCopiesAtMostOnce) {
    int copies = 0;
    int moves = 0;
    auto take = []() -> concert::coroutine<tally> {
        for (;;) {
            tally received = co_await concert::receive;
            static_cast<void>(received);
        }
    };
    auto consumer = take();
    const tally item(&copies, &moves);
    consumer.send(item);
    EXPECT_EQ(copies, 1);
    consumer.send(tally(&copies, &moves));
    EXPECT_EQ(copies, 1);
}

TEST(Coroutine, ConsumerExceptionPropagatesFromSendWithItsType) {
    auto fragile = []() -> concert::coroutine<int> {
        for (;;) {
            if (int x = co_await concert::receive; x < 0) {
                throw std::domain_error("negative exposure time");
            }
        }
    };
    auto consumer = fragile();
    consumer.send(1);
    consumer.send(2);
    EXPECT_THROW(consumer.send(-1), std::domain_error);
    EXPECT_TRUE(consumer.done());
}

TEST(Coroutine, SendAfterTheConsumerFailedIsAConsumerFinishedError) {
    auto fragile = []() -> concert::coroutine<int> {
        static_cast<void>(co_await concert::receive);
        throw std::runtime_error("once");
    };
    auto consumer = fragile();
    EXPECT_THROW(consumer.send(1), std::runtime_error);
    try {
        consumer.send(2);
        FAIL() << "send to a finished consumer did not throw";
    } catch (const concert::consumer_finished& e) {
        const std::logic_error& as_logic_error = e;
        EXPECT_NE(std::string(as_logic_error.what()).find("finished"), std::string::npos);
    }
}

TEST(Coroutine, ExceptionBeforeTheFirstReceiveSurfacesAtTheFirstSend) {
    auto broken = []() -> concert::coroutine<int> {
        throw std::invalid_argument("bad configuration");
        co_await concert::receive;
    };
    auto consumer = broken();
    EXPECT_TRUE(consumer.done());
    EXPECT_THROW(consumer.send(1), std::invalid_argument);
    EXPECT_THROW(consumer.send(1), concert::consumer_finished);
}

TEST(Coroutine, SendToAReturnedConsumerIsAConsumerFinishedError) {
    auto two_items = []() -> concert::coroutine<int> {
        co_await concert::receive;
        co_await concert::receive;
    };
    auto consumer = two_items();
    consumer.send(1);
    EXPECT_FALSE(consumer.done());
    consumer.send(2);
    EXPECT_TRUE(consumer.done());
    EXPECT_THROW(consumer.send(3), concert::consumer_finished);
}

TEST(Coroutine, SendToAMovedFromConsumerIsAConsumerFinishedError) {
    std::vector<int> seen;
    auto consumer = collect(seen);
    auto moved = std::move(consumer);
    EXPECT_TRUE(consumer.done());  // NOLINT: checking the moved-from state
    EXPECT_THROW(consumer.send(1), concert::consumer_finished);
    moved.send(2);
    EXPECT_EQ(seen, (std::vector<int>{2}));
}

TEST(Coroutine, DestroyingAWaitingConsumerDestroysItsLocals) {
    auto alive = std::make_shared<int>(0);
    std::weak_ptr<int> watch = alive;
    {
        auto hold = [](std::shared_ptr<int> held) -> concert::coroutine<int> {
            auto local = std::make_unique<std::string>("buffer");
            for (;;) {
                *held += co_await concert::receive;
            }
        };
        auto consumer = hold(std::move(alive));
        consumer.send(1);
        EXPECT_FALSE(watch.expired());
    }
    EXPECT_TRUE(watch.expired());
}

TEST(Coroutine, CloseLetsAReceiveOrEndConsumerFinishItsWork) {
    std::optional<int> total;
    auto summer = [&]() -> concert::coroutine<int> {
        int sum = 0;
        while (std::optional<int> x = co_await concert::receive_or_end) {
            sum += *x;
        }
        total = sum;
    };
    auto consumer = summer();
    consumer.send(2);
    consumer.send(3);
    EXPECT_FALSE(total.has_value());
    consumer.close();
    EXPECT_EQ(total, 5);
    EXPECT_TRUE(consumer.done());
    EXPECT_THROW(consumer.send(1), concert::consumer_finished);
    consumer.close();
}

TEST(Coroutine, CloseRethrowsWhatTheConsumerRaisesAtTheEnd) {
    auto flush_fails = []() -> concert::coroutine<int> {
        while (co_await concert::receive_or_end) {
        }
        throw std::runtime_error("disk full");
    };
    auto consumer = flush_fails();
    consumer.send(1);
    EXPECT_THROW(consumer.close(), std::runtime_error);
}

TEST(Coroutine, ExceptionNobodyReceivedGoesToTheErrorHandler) {
    std::vector<std::string> reported;
    error_handler_guard guard{
        concert::set_error_handler([&](std::exception_ptr error, std::string_view) {
            reported.push_back(concert::describe(error));
        })};
    {
        auto broken = []() -> concert::coroutine<int> {
            throw std::runtime_error("never sent to");
            co_await concert::receive;
        };
        auto consumer = broken();
    }
    EXPECT_EQ(reported, (std::vector<std::string>{"never sent to"}));
}

}  // namespace
