#include <gtest/gtest.h>

#include <cstdio>
#include <future>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <concert/coroutines.hpp>
#include <concert/disable.hpp>

namespace {

concert::generator<int> count_to(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}

// Restores the error handler a test replaced.
struct error_handler_guard {
    concert::error_handler previous;
    ~error_handler_guard() { concert::set_error_handler(std::move(previous)); }
};

TEST(Buffered, CapacityOneUnderAFastProducerDeliversEveryItemInOrder) {
    constexpr int items = 20000;
    std::vector<int> seen;
    concert::inject(count_to(items), concert::buffered([&](int x) { seen.push_back(x); }, 1));
    std::vector<int> expected(items);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(seen, expected);
}

// Resident memory of this process, from /proc (0 where there is none).
std::size_t resident_bytes() {
    std::FILE* statm = std::fopen("/proc/self/statm", "r");
    if (statm == nullptr) {
        return 0;
    }
    unsigned long pages = 0;
    unsigned long resident = 0;
    const int read = std::fscanf(statm, "%lu %lu", &pages, &resident);
    std::fclose(statm);
    return read == 2 ? resident * 4096 : 0;
}

TEST(Buffered, TheLargestCapacityCostsOnlyWhatIsQueued) {
    const std::size_t before = resident_bytes();
    long count = 0;
    {
        auto stage = concert::buffered([&count](long) { ++count; }, std::size_t{1} << 30);
        for (long i = 0; i < 100'000; ++i) {
            stage.send(i);
        }
        stage.close();
    }
    EXPECT_EQ(count, 100'000);
    // A ring for the whole capacity would be 16 GiB.
    EXPECT_LT(resident_bytes(), before + (std::size_t{256} << 20));
}

TEST(Buffered, ItemsKeepTheirOrderAcrossManySegmentsBehindAHeldConsumer) {
    if (concert::async_disabled()) {
        GTEST_SKIP() << "an inline consumer cannot be held while the sender goes on";
    }
    constexpr int items = 50'000;
    std::vector<int> seen;
    std::promise<void> all_sent;
    std::shared_future<void> sent = all_sent.get_future().share();
    auto stage = concert::buffered(
        [&seen, sent](int x) {
            if (x == 0) {
                sent.wait();  // every item is queued before the first is consumed
            }
            seen.push_back(x);
        },
        items);
    for (int i = 0; i < items; ++i) {
        stage.send(i);
    }
    all_sent.set_value();
    stage.close();
    std::vector<int> expected(items);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(seen, expected);
}

TEST(Buffered, TellsItsItemTypeFromTheConsumer) {
    auto stage = concert::buffered([](const std::string&) {}, 4);
    static_assert(std::is_same_v<decltype(stage), concert::buffered_stage<std::string>>);
    auto named = concert::buffered<double>([](auto) {}, 4);
    static_assert(std::is_same_v<decltype(named), concert::buffered_stage<double>>);
    stage.send("frame");
    named.send(1.5);
    stage.close();
    named.close();
    EXPECT_TRUE(stage.done());
}

TEST(Buffered, RunsTheConsumerOnItsOwnThreadUnlessAsyncIsDisabled) {
    std::thread::id consumer_thread;
    auto stage = concert::buffered([&](int) { consumer_thread = std::this_thread::get_id(); }, 8);
    stage.send(1);
    stage.close();
    if (concert::async_disabled()) {
        EXPECT_EQ(consumer_thread, std::this_thread::get_id());
    } else {
        EXPECT_NE(consumer_thread, std::this_thread::get_id());
        EXPECT_NE(consumer_thread, std::thread::id{});
    }
}

TEST(Buffered, SendReturnsWhileTheConsumerIsStillBusy) {
    if (concert::async_disabled()) {
        GTEST_SKIP() << "needs the stage's own thread: under DISABLE the consumer runs in send()";
    }
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    int consumed = 0;
    auto stage = concert::buffered(
        [&](int) {
            released.wait();
            ++consumed;
        },
        4);
    // One item is taken by the blocked consumer at most, four wait in the queue.
    for (int i = 0; i < 4; ++i) {
        stage.send(i);
    }
    EXPECT_EQ(consumed, 0);  // no data race: the consumer cannot pass wait() before release
    release.set_value();
    stage.close();
    EXPECT_EQ(consumed, 4);
}

TEST(Buffered, MovesNonCopyableItems) {
    std::vector<std::unique_ptr<int>> kept;
    auto stage =
        concert::buffered([&](std::unique_ptr<int> p) { kept.push_back(std::move(p)); }, 2);
    for (int i = 0; i < 5; ++i) {
        stage.send(std::make_unique<int>(i));
    }
    stage.close();
    ASSERT_EQ(kept.size(), 5U);
    EXPECT_EQ(*kept[4], 4);
}

TEST(Buffered, ClosesACoroutineItTookOverAfterTheLastItem) {
    std::optional<int> total;
    auto summer = [&]() -> concert::coroutine<int> {
        int sum = 0;
        while (auto x = co_await concert::receive_or_end) {
            sum += *x;
        }
        total = sum;
    };
    concert::inject(count_to(5), concert::buffered(summer(), 2));
    EXPECT_EQ(total, 10);
}

TEST(Buffered, ConsumersExceptionReachesTheSenderExactlyOnce) {
    auto stage = concert::buffered(
        [](int x) {
            if (x == 3) {
                throw std::runtime_error("detector saturated");
            }
        },
        2);
    int thrown = 0;
    try {
        for (int i = 0; i < 100; ++i) {
            stage.send(i);
        }
    } catch (const std::runtime_error&) {
        ++thrown;
        EXPECT_TRUE(stage.done());
        EXPECT_THROW(stage.send(0), concert::consumer_finished);
    }
    try {
        stage.close();
    } catch (const std::runtime_error& e) {
        ++thrown;
        EXPECT_STREQ(e.what(), "detector saturated");
    }
    EXPECT_EQ(thrown, 1);
}

TEST(Buffered, CloseRethrowsAFailureAfterTheLastSend) {
    auto stage = concert::buffered([](int) { throw std::length_error("last frame bad"); }, 4);
    int thrown_by_send = 0;
    int thrown_by_close = 0;
    try {
        stage.send(1);  // the queue is empty: only DISABLE's inline consumer can throw here
    } catch (const std::length_error&) {
        ++thrown_by_send;
    }
    try {
        stage.close();
    } catch (const std::length_error&) {
        ++thrown_by_close;
    }
    EXPECT_EQ(thrown_by_send, concert::async_disabled() ? 1 : 0);
    EXPECT_EQ(thrown_by_close, concert::async_disabled() ? 0 : 1);
}

TEST(Buffered, DestroyedWithoutCloseReportsTheConsumersException) {
    std::vector<std::string> reported;
    error_handler_guard guard{
        concert::set_error_handler([&](std::exception_ptr error, std::string_view) {
            reported.push_back(concert::describe(error));
        })};
    int thrown = 0;
    {
        auto stage = concert::buffered([](int) { throw std::runtime_error("lost?"); }, 4);
        try {
            stage.send(1);
        } catch (const std::runtime_error&) {
            ++thrown;
        }
    }
    // Threaded, the exception can only reach the destructor; inline, send() threw it.
    EXPECT_EQ(thrown + static_cast<int>(reported.size()), 1);
    if (!reported.empty()) {
        EXPECT_EQ(reported.front(), "lost?");
    }
}

TEST(Buffered, SendAfterCloseIsAConsumerFinishedError) {
    auto stage = concert::buffered([](int) {}, 1);
    stage.close();
    EXPECT_TRUE(stage.done());
    EXPECT_THROW(stage.send(1), concert::consumer_finished);
    stage.close();
}

TEST(Buffered, CapacityOutOfRangeIsInvalidArgument) {
    EXPECT_THROW(concert::buffered([](int) {}, 0), std::invalid_argument);
    EXPECT_THROW(concert::buffered([](int) {}, std::size_t{1} << 40), std::invalid_argument);
}

TEST(Buffered, ComposesBehindABroadcastAndDeliversEverythingByTheEndOfInject) {
    concert::counter<int> count;
    std::vector<int> written;
    auto write = [&]() -> concert::coroutine<int> {
        for (;;) {
            written.push_back(co_await concert::receive);
        }
    };
    concert::inject(count_to(1000), concert::broadcast(count, concert::buffered(write(), 64)));
    EXPECT_EQ(count.count(), 1000U);
    ASSERT_EQ(written.size(), 1000U);
    EXPECT_EQ(written.back(), 999);
}

TEST(Buffered, ExceptionBehindABroadcastPropagatesOutOfInject) {
    concert::counter<int> count;
    auto write = [](int x) {
        if (x == 500) {
            throw std::overflow_error("disk full");
        }
    };
    EXPECT_THROW(
        concert::inject(count_to(1000), concert::broadcast(count, concert::buffered(write, 16))),
        std::overflow_error);
    EXPECT_GE(count.count(), 500U);
}

}  // namespace
