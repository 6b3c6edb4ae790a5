// The library's exception types, and the handler that receives errors no caller can catch
// (a throwing fire-and-forget task, a throwing message handler). Header-only, so the coroutine
// pipes need no compiled library.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <concert/export.hpp>

/// concert-cpp: asynchronous execution (pools, futures, async), coroutine pipes and messaging for
/// instrument control; a port of the helpers of the Python library Concert.
namespace concert {

/// A future was used without a shared state: default-constructed or moved-from.
class invalid_future : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

/// What a cancelled task's future throws from wait() and result() (see future::cancel), and what
/// the continuations of a cancelled task see.
class cancelled : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// What the futures of a concert::promise destroyed without a value or an exception throw.
class broken_promise : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

/// Work was submitted from outside a pool whose destruction has begun.
class pool_stopped : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// An item was sent into a consumer coroutine that has already finished.
class consumer_finished : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

/// Receives an error that has no caller to propagate to; `origin` says where it happened.
using error_handler = std::function<void(std::exception_ptr error, std::string_view origin)>;

/// One line describing `error`: the message of a std::exception, "no exception" for a null
/// pointer, or a note that the value thrown was not a std::exception. Throws only std::bad_alloc;
/// thread-safe.
inline std::string describe(std::exception_ptr error) {
    if (!error) {
        return "no exception";
    }
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "a value not derived from std::exception";
    }
}

namespace detail {

struct handler_slot {
    std::mutex mutex;
    error_handler handler;
};

// One slot per process, whichever shared objects include this header (hence exported), and never
// destroyed: tasks and dispatchers may report errors during static destruction.
CONCERT_API inline handler_slot& error_handler_slot() {
    static auto* instance = new handler_slot;
    return *instance;
}

inline void print_error_to_stderr(std::exception_ptr error, std::string_view origin) noexcept {
    try {
        const std::string line = "concert: unhandled exception in " + std::string(origin) + ": " +
                                 describe(error) + "\n";
        std::fputs(line.c_str(), stderr);
    } catch (...) {
        // Out of memory: nothing is left to tell.
    }
}

}  // namespace detail

/// Installs `handler` and returns the previous one; an empty handler restores the default, which
/// prints one line per error to stderr. Throws only std::bad_alloc (the first call creates the
/// slot); thread-safe, also during static destruction.
inline error_handler set_error_handler(error_handler handler) {
    auto& slot = detail::error_handler_slot();
    const std::lock_guard lock(slot.mutex);
    std::swap(slot.handler, handler);
    return handler;
}

/// Passes `error` to the installed handler, or prints it to stderr if none is installed. Never
/// throws: a throwing handler is reported to stderr too. Thread-safe; the handler is called
/// outside the lock, so it may call set_error_handler or report_error.
inline void report_error(std::exception_ptr error, std::string_view origin) noexcept {
    error_handler handler;
    try {
        auto& slot = detail::error_handler_slot();
        const std::lock_guard lock(slot.mutex);
        handler = slot.handler;
    } catch (...) {
        // Copying the handler failed (out of memory): fall back to stderr below.
    }
    if (!handler) {
        detail::print_error_to_stderr(error, origin);
        return;
    }
    try {
        handler(error, origin);
    } catch (...) {
        detail::print_error_to_stderr(error, origin);
        detail::print_error_to_stderr(std::current_exception(), "the error handler itself");
    }
}

}  // namespace concert
