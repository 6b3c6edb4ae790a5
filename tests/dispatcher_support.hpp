// Helpers shared by the dispatcher's tests: a recorder of what reaches the error handler, and a
// check that wait() sees a message another thread keeps sending.
#pragma once

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <concert/dispatcher.hpp>
#include <concert/errors.hpp>

namespace concert::testing {

// Installs an error handler that records each error as "origin: description" (prefixed with
// "mismatch in " for a concert::message_value_mismatch), and restores the previous one.
class recorded_errors {
  public:
    recorded_errors() {
        previous_ = set_error_handler([this](std::exception_ptr error, std::string_view origin) {
            bool mismatch = false;
            try {
                std::rethrow_exception(error);
            } catch (const message_value_mismatch&) {
                mismatch = true;
            } catch (...) {  // any other error is recorded as it is
            }
            std::lock_guard lock(mutex_);
            entries_.push_back(
                fmt::format("{}{}: {}", mismatch ? "mismatch in " : "", origin, describe(error)));
        });
    }
    ~recorded_errors() { set_error_handler(std::move(previous_)); }
    recorded_errors(const recorded_errors&) = delete;
    recorded_errors& operator=(const recorded_errors&) = delete;

    std::vector<std::string> entries() {
        std::lock_guard lock(mutex_);
        return entries_;
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> entries_;
    error_handler previous_;
};

// True if wait(sender, message, timeout) sees the message, which another thread sends until it
// has: wait only counts messages sent after it began, so one send could come too early.
template <class Duration>
bool wait_sees_a_message_sent_meanwhile(Dispatcher& dispatcher, Duration timeout) {
    const int motor = 0;
    std::atomic<bool> seen{false};
    std::thread mover([&] {
        while (!seen) {
            dispatcher.send(&motor, "stopped");
            std::this_thread::yield();
        }
    });
    const bool result = dispatcher.wait(&motor, "stopped", timeout);
    seen = true;
    mover.join();
    return result;
}

}  // namespace concert::testing
