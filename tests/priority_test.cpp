// concert::priority: high before normal before low, FIFO within one priority, no ageing; for
// submit, post, the free functions and async wrappers.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include <concert/concert.hpp>

#include "support.hpp"

namespace {

using concert::priority;
using concert::testing::gate;

// Records the order in which tasks ran.
class run_order {
  public:
    auto record(int id) {
        return [this, id] {
            const std::lock_guard lock(mutex_);
            ids_.push_back(id);
        };
    }
    std::vector<int> ids() {
        const std::lock_guard lock(mutex_);
        return ids_;
    }

  private:
    std::mutex mutex_;
    std::vector<int> ids_;
};

TEST(Priority, AStopCommandRunsBeforeTenThousandQueuedReads) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    gate g;
    concert::testing::occupy_worker(pool, g);
    run_order order;
    for (int i = 0; i < 10'000; ++i) {
        pool.post(order.record(1));
    }
    auto stop = pool.submit(priority::high, order.record(0));
    g.open();
    stop.wait();
    pool.wait_idle();
    const auto ids = order.ids();
    ASSERT_EQ(ids.size(), 10'001u);
    EXPECT_EQ(ids.front(), 0);
}

TEST(Priority, LowRunsAfterEveryNormalAndEachPriorityIsFifo) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    gate g;
    concert::testing::occupy_worker(pool, g);
    run_order order;
    pool.post(priority::low, order.record(300));
    pool.post(priority::normal, order.record(200));
    pool.post(priority::high, order.record(100));
    pool.post(priority::low, order.record(301));
    pool.post(order.record(201));
    pool.post(priority::high, order.record(101));
    g.open();
    pool.wait_idle();
    EXPECT_EQ(order.ids(), (std::vector<int>{100, 101, 200, 201, 300, 301}));
}

TEST(Priority, TheFreeFunctionsAndAsyncWrappersTakeAPriority) {
    CONCERT_SKIP_WHEN_INLINE();
    concert::thread_pool pool{1};
    gate g;
    concert::testing::occupy_worker(pool, g);
    run_order order;
    auto normal = concert::async(pool, order.record(2));
    auto urgent = concert::async(pool, order.record(1), priority::high);
    EXPECT_EQ(urgent.submit_priority(), priority::high);
    auto a = normal();
    auto b = urgent();
    g.open();
    concert::wait(a, b);
    EXPECT_EQ(order.ids(), (std::vector<int>{1, 2}));
    EXPECT_EQ(concert::submit(priority::high, [] { return 3; }).result(), 3);
    std::promise<int> posted;
    auto posted_future = posted.get_future();
    concert::post(priority::low, [&posted] { posted.set_value(4); });
    EXPECT_EQ(posted_future.get(), 4);
}

TEST(Priority, UnderDisableEveryPriorityRunsInline) {
    const bool was = concert::DISABLE.exchange(true);
    concert::thread_pool pool{1};
    std::vector<std::string> ran;
    pool.post(priority::low, [&ran] { ran.emplace_back("low"); });
    pool.submit(priority::high, [&ran] { ran.emplace_back("high"); }).wait();
    concert::DISABLE = was;
    EXPECT_EQ(ran, (std::vector<std::string>{"low", "high"}));
}

}  // namespace
