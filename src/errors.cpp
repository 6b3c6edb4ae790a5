// The error handler: a process-wide slot read by whoever has an error nobody else can catch.
#include <fmt/format.h>
#include <mutex>
#include <typeinfo>

#include <concert/errors.hpp>

namespace concert {

namespace {

struct handler_slot {
    std::mutex mutex;
    error_handler handler;
};

// Never destroyed: tasks and dispatchers may report errors during static destruction.
handler_slot& slot() {
    static auto* instance = new handler_slot;
    return *instance;
}

void print_to_stderr(std::exception_ptr error, std::string_view origin) noexcept {
    try {
        fmt::print(stderr, "concert: unhandled exception in {}: {}\n", origin, describe(error));
    } catch (...) {
        // stderr itself failed: nothing is left to tell.
    }
}

}  // namespace

error_handler set_error_handler(error_handler handler) {
    auto& s = slot();
    std::lock_guard lock(s.mutex);
    std::swap(s.handler, handler);
    return handler;
}

void report_error(std::exception_ptr error, std::string_view origin) noexcept {
    error_handler handler;
    try {
        auto& s = slot();
        std::lock_guard lock(s.mutex);
        handler = s.handler;
    } catch (...) {
        // Copying the handler failed (out of memory): fall back to stderr below.
    }
    if (!handler) {
        print_to_stderr(error, origin);
        return;
    }
    try {
        handler(error, origin);
    } catch (...) {
        print_to_stderr(error, origin);
        print_to_stderr(std::current_exception(), "the error handler itself");
    }
}

std::string describe(std::exception_ptr error) {
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

}  // namespace concert
