#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <concert/coroutines.hpp>

namespace {

// The seed's example, word for word.
concert::generator<int> generate() {
    for (int i = 0; i < 3; ++i) {
        co_yield i;
    }
}

concert::coroutine<int> consume() {
    while (true) {
        int item = co_await concert::receive;
        std::cout << item << '\n';
    }
}

TEST(Pipes, SeedExamplePrintsZeroOneTwo) {
    testing::internal::CaptureStdout();
    concert::inject(generate(), consume());
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "0\n1\n2\n");
}

concert::coroutine<int> collect(std::vector<int>& into) {
    for (;;) {
        into.push_back(co_await concert::receive);
    }
}

// Records `tag:item` for every item, then `tag:end` when closed.
concert::coroutine<int> record(std::vector<std::string>& log, std::string tag) {
    while (std::optional<int> item = co_await concert::receive_or_end) {
        log.push_back(tag + ":" + std::to_string(*item));
    }
    log.push_back(tag + ":end");
}

concert::coroutine<int> fail_at(int bad) {
    for (;;) {
        // Not `if (co_await ... == bad)`: g++ 12.2 miscompiles a co_await in a plain if
        // condition (GCC PR 106188); a variable or an init-statement is fine.
        if (int item = co_await concert::receive; item == bad) {
            throw std::range_error("bad item " + std::to_string(bad));
        }
    }
}

TEST(Pipes, InjectIntoALambda) {
    int sum = 0;
    concert::inject(generate(), [&](int x) { sum += x; });
    EXPECT_EQ(sum, 3);
}

TEST(Pipes, InjectUsesAnLvalueConsumerByReferenceAndLeavesItOpen) {
    std::vector<int> seen;
    auto consumer = collect(seen);
    concert::inject(generate(), consumer);
    EXPECT_FALSE(consumer.done());
    consumer.send(9);
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 9}));
}

TEST(Pipes, InjectTakesOverAnRvalueConsumerAndClosesIt) {
    std::vector<std::string> log;
    auto consumer = record(log, "c");
    concert::inject(generate(), std::move(consumer));
    EXPECT_TRUE(consumer.done());  // NOLINT: checking that it was taken over
    EXPECT_EQ(log, (std::vector<std::string>{"c:0", "c:1", "c:2", "c:end"}));
}

TEST(Pipes, InjectMovesNonCopyableItems) {
    auto make = []() -> concert::generator<std::unique_ptr<int>> {
        for (int i = 0; i < 3; ++i) {
            co_yield std::make_unique<int>(i);
        }
    };
    std::vector<std::unique_ptr<int>> kept;
    concert::inject(make(), [&](std::unique_ptr<int> p) { kept.push_back(std::move(p)); });
    ASSERT_EQ(kept.size(), 3U);
    EXPECT_EQ(*kept[1], 1);
}

TEST(Pipes, InjectPropagatesTheProducersException) {
    auto make = []() -> concert::generator<int> {
        co_yield 1;
        throw std::out_of_range("ring current lost");
    };
    std::vector<int> seen;
    EXPECT_THROW(concert::inject(make(), collect(seen)), std::out_of_range);
    EXPECT_EQ(seen, (std::vector<int>{1}));
}

TEST(Pipes, InjectPropagatesTheConsumersExceptionAndStopsProducing) {
    int produced = 0;
    auto make = [&]() -> concert::generator<int> {
        for (int i = 0; i < 10; ++i) {
            ++produced;
            co_yield i;
        }
    };
    EXPECT_THROW(concert::inject(make(), fail_at(3)), std::range_error);
    EXPECT_EQ(produced, 4);
}

TEST(Pipes, InjectIntoAFinishedConsumerIsAConsumerFinishedError) {
    auto one_item = []() -> concert::coroutine<int> { co_await concert::receive; };
    EXPECT_THROW(concert::inject(generate(), one_item()), concert::consumer_finished);
}

TEST(Pipes, BroadcastToNobodyTakesItems) {
    auto nobody = concert::broadcast<int>();
    static_assert(std::is_same_v<decltype(nobody), concert::coroutine<int>>);
    nobody.send(1);
    EXPECT_FALSE(nobody.done());
}

TEST(Pipes, BroadcastToOneConsumerMovesTheItem) {
    std::vector<std::unique_ptr<int>> kept;
    auto keep = [&](std::unique_ptr<int> p) { kept.push_back(std::move(p)); };
    auto one = concert::broadcast(keep);
    static_assert(std::is_same_v<decltype(one), concert::coroutine<std::unique_ptr<int>>>);
    one.send(std::make_unique<int>(4));
    ASSERT_EQ(kept.size(), 1U);
    EXPECT_EQ(*kept[0], 4);
}

TEST(Pipes, BroadcastToManyConsumersInArgumentOrder) {
    std::vector<std::string> log;
    concert::inject(generate(),
                    concert::broadcast(record(log, "a"), record(log, "b"), record(log, "c")));
    EXPECT_EQ(log, (std::vector<std::string>{"a:0", "b:0", "c:0", "a:1", "b:1", "c:1", "a:2", "b:2",
                                             "c:2", "a:end", "b:end", "c:end"}));
}

TEST(Pipes, BroadcastMixesConsumerKinds) {
    std::vector<int> seen;
    int sum = 0;
    concert::counter<int> count;
    concert::inject(generate(), concert::broadcast([&](int x) { sum += x; }, collect(seen), count));
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(count.count(), 3U);
}

TEST(Pipes, BroadcastOverAVectorKeptByTheCaller) {
    std::vector<std::string> log;
    std::vector<concert::coroutine<int>> consumers;
    consumers.push_back(record(log, "a"));
    consumers.push_back(record(log, "b"));
    concert::inject(generate(), concert::broadcast(consumers));
    EXPECT_EQ(log, (std::vector<std::string>{"a:0", "b:0", "a:1", "b:1", "a:2", "b:2"}));
    for (auto& consumer : consumers) {
        consumer.close();
    }
    EXPECT_EQ(log.back(), "b:end");
}

TEST(Pipes, BroadcastOverAVectorItTookOverClosesEveryConsumer) {
    std::vector<std::string> log;
    std::vector<concert::coroutine<int>> consumers;
    consumers.push_back(record(log, "a"));
    consumers.push_back(record(log, "b"));
    concert::inject(generate(), concert::broadcast(std::move(consumers)));
    EXPECT_EQ(log, (std::vector<std::string>{"a:0", "b:0", "a:1", "b:1", "a:2", "b:2", "a:end",
                                             "b:end"}));
}

TEST(Pipes, BroadcastPropagatesOneConsumersExceptionAndStops) {
    std::vector<std::string> log;
    auto both = concert::broadcast(record(log, "a"), fail_at(1), record(log, "c"));
    both.send(0);
    EXPECT_THROW(both.send(1), std::range_error);
    EXPECT_TRUE(both.done());
    EXPECT_EQ(log, (std::vector<std::string>{"a:0", "c:0", "a:1"}));
}

TEST(Pipes, MapSendsTheFunctionsResultOn) {
    std::vector<std::string> seen;
    concert::inject(generate(), concert::map([](int x) { return std::to_string(10 * x); },
                                             [&](std::string s) { seen.push_back(std::move(s)); }));
    EXPECT_EQ(seen, (std::vector<std::string>{"0", "10", "20"}));
}

TEST(Pipes, FilterSendsOnlyMatchingItems) {
    std::vector<int> seen;
    concert::inject(generate(),
                    concert::filter([](int x) { return x != 1; }, concert::append_to(seen)));
    EXPECT_EQ(seen, (std::vector<int>{0, 2}));
}

TEST(Pipes, FiltersTellTheirItemTypeForBroadcast) {
    std::vector<int> seen;
    auto evens = concert::filter([](int x) { return x % 2 == 0; }, concert::append_to(seen));
    auto pipe = concert::broadcast(evens);
    static_assert(std::is_same_v<decltype(pipe), concert::coroutine<int>>);
    concert::inject(generate(), std::move(pipe));
    EXPECT_EQ(seen, (std::vector<int>{0, 2}));
}

TEST(Pipes, FiltersCloseTheConsumerTheyTookOver) {
    std::vector<std::string> log;
    concert::inject(generate(), concert::map([](int x) { return x * x; }, record(log, "sq")));
    EXPECT_EQ(log, (std::vector<std::string>{"sq:0", "sq:1", "sq:4", "sq:end"}));
}

}  // namespace
