#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <concert/coroutines.hpp>

namespace {

concert::generator<int> count_to(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}

static_assert(std::is_same_v<concert::consumer_item_t<concert::counter<int>>, int>);
static_assert(
    std::is_same_v<concert::consumer_item_t<concert::appender<std::deque<double>>>, double>);
static_assert(concert::consumer_of<concert::discard<std::string>, std::string>);
static_assert(!concert::consumer_of<concert::counter<std::string>, int>);

TEST(Sinks, DiscardTakesEveryItemAndLeavesItUntouched) {
    concert::discard<std::unique_ptr<int>> sink;
    auto item = std::make_unique<int>(1);
    sink.send(item);
    EXPECT_NE(item, nullptr);
    concert::counter<int> count;
    concert::inject(count_to(3), concert::broadcast(concert::discard<int>{}, count));
    EXPECT_EQ(count.count(), 3U);
}

TEST(Sinks, CounterCountsItemsAcrossPipes) {
    concert::counter<int> count;
    concert::inject(count_to(4), count);
    concert::inject(count_to(2), count);
    EXPECT_EQ(count.count(), 6U);
}

TEST(Sinks, LastItemKeepsOnlyTheLatest) {
    concert::last_item<int> last;
    EXPECT_FALSE(last.value().has_value());
    concert::inject(count_to(5), last);
    EXPECT_EQ(last.value(), 4);
}

TEST(Sinks, LastItemMovesNonCopyableItems) {
    auto make = []() -> concert::generator<std::unique_ptr<int>> {
        co_yield std::make_unique<int>(1);
        co_yield std::make_unique<int>(2);
    };
    concert::last_item<std::unique_ptr<int>> last;
    concert::inject(make(), last);
    ASSERT_TRUE(last.value().has_value());
    EXPECT_EQ(**last.value(), 2);
}

TEST(Sinks, AppendToFillsTheCallersContainer) {
    std::vector<int> items{-1};
    std::set<int> unique;
    concert::inject(count_to(3),
                    concert::broadcast(concert::append_to(items), concert::append_to(unique)));
    EXPECT_EQ(items, (std::vector<int>{-1, 0, 1, 2}));
    EXPECT_EQ(unique, (std::set<int>{0, 1, 2}));
}

}  // namespace
