// Helpers shared by the tests: a gate that tasks block on until the test opens it.
#pragma once

#include <future>

#include <concert/disable.hpp>

namespace concert::testing {

// Tasks call wait() and block until the test calls open(); no sleeping, no timing.
class gate {
  public:
    void open() { opened_.set_value(); }
    void wait() const { opening_.wait(); }

  private:
    std::promise<void> opened_;
    std::shared_future<void> opening_ = opened_.get_future().share();
};

// Occupies a one-thread pool's worker until `g` opens, so that later tasks stay queued. An inline
// run has no worker to occupy (and would block the test), so it does nothing then.
template <class Pool>
void occupy_worker(Pool& pool, const gate& g) {
    if (!concert::async_disabled()) {
        pool.post([&g] { g.wait(); });
    }
}

}  // namespace concert::testing

// For behaviours that need tasks to run concurrently, which --disable-async rules out by design.
#define CONCERT_SKIP_WHEN_INLINE()                                                \
    do {                                                                          \
        if (concert::async_disabled()) {                                          \
            GTEST_SKIP() << "needs concurrent tasks; async is disabled (inline)"; \
        }                                                                         \
    } while (false)
