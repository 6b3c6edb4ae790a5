// DISABLE: run every task inline on the caller's thread (tests, debugging) while still returning
// futures.
#pragma once

#include <atomic>

namespace concert {

// The runtime switch, checked on every submit. Set it before starting work; the environment
// variable CONCERT_DISABLE_ASYNC=1 sets it at start-up, and concert::gtest_main's --disable-async
// before any test.
extern std::atomic<bool> DISABLE;

// The compile-time switch: define CONCERT_DISABLE_ASYNC for the whole program (CMake option of the
// same name) and every submit runs inline, with no pool and no thread ever started.
#ifdef CONCERT_DISABLE_ASYNC
inline constexpr bool async_compiled_out = true;
#else
inline constexpr bool async_compiled_out = false;
#endif

// True when work must run inline on the caller's thread.
inline bool async_disabled() noexcept {
    if constexpr (async_compiled_out) {
        return true;
    } else {
        return DISABLE.load(std::memory_order_relaxed);
    }
}

}  // namespace concert
