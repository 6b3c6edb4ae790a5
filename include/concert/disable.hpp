// DISABLE: run every task inline on the caller's thread (tests, debugging) while still returning
// futures. Header-only, so the coroutine pipes need no compiled library.
#pragma once

#include <atomic>
#include <cstdlib>
#include <string_view>

#include <concert/export.hpp>

namespace concert {

/// The runtime switch that runs every task inline on the caller's thread.
///
/// Checked on every submit, every dispatcher send and every buffered stage's creation. It is
/// constant-initialised, so a static initialiser of the program may set it and nothing resets it
/// later. The environment variable `CONCERT_DISABLE_ASYNC=1` switches it on at the first
/// async_disabled() call (the environment never switches it off); concert::gtest_main's
/// `--disable-async` sets it before any test. Set it before starting work: tasks already on a pool
/// stay there. Thread-safe (an atomic).
CONCERT_API inline constinit std::atomic<bool> DISABLE{false};

// The pool's types live in an inline namespace named after the switch, so that a program whose
// translation units disagree on it (or that links a library built the other way) fails to link,
// naming the namespace, instead of silently running some calls inline.
#ifdef CONCERT_DISABLE_ASYNC
#define CONCERT_POOL_ABI compiled_inline
#else
#define CONCERT_POOL_ABI pooled
#endif
// Around the pool's declarations (the API reference leaves the inline namespace out).
#define CONCERT_POOL_ABI_BEGIN inline namespace CONCERT_POOL_ABI {
#define CONCERT_POOL_ABI_END }

#ifdef CONCERT_DISABLE_ASYNC
/// True when the program is built with `CONCERT_DISABLE_ASYNC` defined (the CMake option of the
/// same name): every submit runs inline, with no pool and no thread ever started.
inline constexpr bool async_compiled_out = true;
#else
/// False: the program is built without `CONCERT_DISABLE_ASYNC`, and DISABLE decides at run time.
inline constexpr bool async_compiled_out = false;
#endif

namespace detail {

// Set once the environment has been read; constant-initialised like DISABLE.
CONCERT_API inline constinit std::atomic<bool> environment_read{false};

// Reads CONCERT_DISABLE_ASYNC once. Racing first calls read the same value and store the same
// result, so no lock is needed.
inline void read_environment() noexcept {
    const char* value = std::getenv("CONCERT_DISABLE_ASYNC");
    if (value != nullptr && std::string_view(value) == "1") {
        DISABLE.store(true, std::memory_order_relaxed);
    }
    // Release: whoever sees the flag set also sees DISABLE as the environment left it.
    environment_read.store(true, std::memory_order_release);
}

}  // namespace detail

/// True when work must run inline on the caller's thread: async_compiled_out, or DISABLE (after
/// applying `CONCERT_DISABLE_ASYNC=1` from the environment on the first call).
///
/// Cheap enough for every submit: two atomic loads, and the environment is read only once.
/// Never throws; thread-safe.
inline bool async_disabled() noexcept {
    if constexpr (async_compiled_out) {
        return true;
    } else {
        if (!detail::environment_read.load(std::memory_order_acquire)) [[unlikely]] {
            detail::read_environment();
        }
        return DISABLE.load(std::memory_order_relaxed);
    }
}

}  // namespace concert
