#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include <concert/generator.hpp>

namespace {

concert::generator<int> count_to(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}

static_assert(std::ranges::input_range<concert::generator<int>>);
static_assert(!std::is_copy_constructible_v<concert::generator<int>>);
static_assert(std::is_nothrow_move_constructible_v<concert::generator<int>>);

TEST(Generator, YieldsItemsInOrderThroughRangeFor) {
    std::vector<int> seen;
    for (auto& x : count_to(4)) {
        seen.push_back(x);
    }
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
}

TEST(Generator, WorksWithStandardRangeAlgorithms) {
    // Range algorithms, not views: clang++ 14 cannot compile libstdc++ 12's views at all.
    auto gen = count_to(10);
    EXPECT_EQ(std::ranges::count_if(gen, [](int i) { return i % 3 == 0; }), 4);
}

TEST(Generator, IsLazyUntilIterated) {
    bool started = false;
    auto make = [&]() -> concert::generator<int> {
        started = true;
        co_yield 1;
    };
    auto gen = make();
    EXPECT_FALSE(started);
    EXPECT_EQ(*gen.begin(), 1);
    EXPECT_TRUE(started);
}

TEST(Generator, StopsProducingWhenTheReaderStops) {
    int produced = 0;
    auto make = [&]() -> concert::generator<int> {
        for (int i = 0;; ++i) {
            ++produced;
            co_yield i;
        }
    };
    for (int x : make()) {
        if (x == 2) {
            break;
        }
    }
    EXPECT_EQ(produced, 3);
}

TEST(Generator, ProducerExceptionReachesTheReaderAfterEarlierItems) {
    auto make = []() -> concert::generator<int> {
        co_yield 1;
        throw std::out_of_range("sensor unplugged");
    };
    std::vector<int> seen;
    try {
        for (int x : make()) {
            seen.push_back(x);
        }
        FAIL() << "the producer's exception was lost";
    } catch (const std::out_of_range& e) {
        EXPECT_STREQ(e.what(), "sensor unplugged");
    }
    EXPECT_EQ(seen, (std::vector<int>{1}));
}

TEST(Generator, ExceptionBeforeTheFirstItemComesFromBegin) {
    auto make = []() -> concert::generator<int> {
        throw std::runtime_error("no data");
        co_return;
    };
    auto gen = make();
    EXPECT_THROW(gen.begin(), std::runtime_error);
}

TEST(Generator, ReaderMayMoveNonCopyableItemsOut) {
    auto make = []() -> concert::generator<std::unique_ptr<int>> {
        for (int i = 0; i < 3; ++i) {
            co_yield std::make_unique<int>(i);
        }
    };
    std::vector<std::unique_ptr<int>> taken;
    for (auto& p : make()) {
        taken.push_back(std::move(p));
    }
    ASSERT_EQ(taken.size(), 3U);
    EXPECT_EQ(*taken[2], 2);
}

TEST(Generator, YieldingAnLvalueLeavesTheProducersCopyIntact) {
    std::vector<std::string> kept;
    auto make = [&]() -> concert::generator<std::string> {
        std::string name = "frame";
        co_yield name;
        kept.push_back(name);
    };
    for (auto& s : make()) {
        std::string stolen = std::move(s);
        EXPECT_EQ(stolen, "frame");
    }
    EXPECT_EQ(kept, (std::vector<std::string>{"frame"}));
}

TEST(Generator, ConvertsYieldedValuesToTheItemType) {
    auto make = []() -> concert::generator<std::string> { co_yield "text"; };
    std::vector<std::string> seen;
    for (auto& s : make()) {
        seen.push_back(s);
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"text"}));
}

TEST(Generator, DestroyingAnUnfinishedGeneratorDestroysItsLocals) {
    auto alive = std::make_shared<int>(0);
    std::weak_ptr<int> watch = alive;
    {
        auto make = [](std::shared_ptr<int> held) -> concert::generator<int> {
            for (;;) {
                co_yield *held;
            }
        };
        auto gen = make(std::move(alive));
        EXPECT_EQ(*gen.begin(), 0);
        EXPECT_FALSE(watch.expired());
    }
    EXPECT_TRUE(watch.expired());
}

TEST(Generator, MoveTransfersTheProducer) {
    auto first = count_to(2);
    concert::generator<int> second = std::move(first);
    std::vector<int> seen;
    for (int x : second) {
        seen.push_back(x);
    }
    EXPECT_EQ(seen, (std::vector<int>{0, 1}));
    EXPECT_EQ(first.begin(), first.end());  // NOLINT: moved-from generators are empty
}

TEST(Generator, IteratingASecondTimeIsLogicError) {
    auto gen = count_to(3);
    std::vector<int> seen;
    for (int x : gen) {
        seen.push_back(x);
    }
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
    // The finished producer was resumed here before: SIGSEGV.
    EXPECT_THROW(
        {
            for (int x : gen) {
                seen.push_back(x);
            }
        },
        std::logic_error);
    EXPECT_EQ(seen.size(), 3U);
}

TEST(Generator, ASecondBeginIsLogicErrorWhateverTheState) {
    auto part_read = count_to(3);
    EXPECT_EQ(*part_read.begin(), 0);
    EXPECT_THROW(part_read.begin(), std::logic_error);  // it skipped item 1 before
    auto failed = []() -> concert::generator<int> {
        throw std::runtime_error("no data");
        co_return;
    }();
    EXPECT_THROW(failed.begin(), std::runtime_error);
    EXPECT_THROW(failed.begin(), std::logic_error);
    concert::generator<int> empty;
    EXPECT_EQ(empty.begin(), empty.end());
    EXPECT_THROW(empty.begin(), std::logic_error);
}

TEST(Generator, IncrementingPastTheEndIsLogicError) {
    auto gen = count_to(1);
    auto it = gen.begin();
    ++it;
    EXPECT_EQ(it, gen.end());
    EXPECT_THROW(++it, std::logic_error);
    concert::generator<int>::iterator none;
    EXPECT_THROW(++none, std::logic_error);
}

TEST(Generator, AMovedToGeneratorKeepsWhetherItWasBegun) {
    auto first = count_to(3);
    EXPECT_EQ(*first.begin(), 0);
    concert::generator<int> second = std::move(first);
    EXPECT_THROW(second.begin(), std::logic_error);
    EXPECT_EQ(first.begin(), first.end());  // NOLINT: a moved-from generator is empty, not begun
}

}  // namespace
