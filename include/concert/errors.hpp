// The library's exception types, and the handler that receives errors no caller can catch
// (a throwing fire-and-forget task, a throwing message handler).
#pragma once

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace concert {

// A future was used without a shared state: default-constructed or moved-from.
class invalid_future : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

// Work was submitted from outside a pool whose destruction has begun.
class pool_stopped : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// An item was sent into a consumer coroutine that has already finished.
class consumer_finished : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

// Receives an error that has no caller to propagate to; `origin` says where it happened.
using error_handler = std::function<void(std::exception_ptr error, std::string_view origin)>;

// Installs `handler` and returns the previous one; an empty handler restores the default, which
// prints one line per error to stderr. Thread-safe.
error_handler set_error_handler(error_handler handler);

// Passes `error` to the installed handler. Never throws: a throwing handler is reported to stderr.
void report_error(std::exception_ptr error, std::string_view origin) noexcept;

// One line describing `error`: the message of a std::exception, or a note that the value thrown was
// not a std::exception.
std::string describe(std::exception_ptr error);

}  // namespace concert
