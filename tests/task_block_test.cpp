// detail::task_block: one allocation for a submitted task and its promise's state; freed by the
// last of its parts, whichever thread drops it.
#include <gtest/gtest.h>

#include <array>
#include <future>
#include <string>
#include <vector>

#include <concert/concert.hpp>

namespace {

using concert::detail::task_block;
using concert::detail::task_block_allocator;

TEST(TaskBlock, APromiseBuiltInItsArenaWorksAndOutlivesTheTask) {
    task_block* block = task_block::create(64, 256);
    std::future<std::string> result;
    {
        std::promise<std::string> promise(std::allocator_arg, task_block_allocator<char>(block));
        result = promise.get_future();
        promise.set_value("frame 7");
    }
    block->release();  // the task's own part: the state lives on in the future
    EXPECT_EQ(result.get(), "frame 7");
}

TEST(TaskBlock, AFullArenaFallsBackToTheHeap) {
    task_block* block = task_block::create(64, 16);
    task_block_allocator<std::array<char, 64>> allocator(block);
    auto* beyond = allocator.allocate(1);
    EXPECT_FALSE(block->owns(beyond));
    auto* inside = task_block_allocator<char>(block).allocate(16);
    EXPECT_TRUE(block->owns(inside));
    allocator.deallocate(beyond, 1);
    task_block_allocator<char>(block).deallocate(inside, 16);
    block->release();
}

TEST(TaskBlock, ResultsOfEverySizeArriveWhateverOrderTheFuturesAreDropped) {
    concert::thread_pool pool{2};
    std::vector<concert::future<std::array<char, 4096>>> large;
    std::vector<concert::future<std::string>> strings;
    for (int i = 0; i < 100; ++i) {
        large.push_back(pool.submit([i] {
            std::array<char, 4096> a{};
            a.back() = static_cast<char>(i);
            return a;
        }));
        strings.push_back(pool.submit([i] { return std::to_string(i); }));
        pool.submit([] { return 1; });  // dropped at once: the task frees the block
    }
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(large[static_cast<std::size_t>(i)].result().back(), static_cast<char>(i));
        EXPECT_EQ(strings[static_cast<std::size_t>(i)].result(), std::to_string(i));
    }
}

}  // namespace
