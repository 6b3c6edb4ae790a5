// Helpers shared by the tests: a gate that tasks block on until the test opens it.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <exception>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <concert/disable.hpp>
#include <concert/errors.hpp>

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

// Records what reaches concert's error handler during one test.
class reported_errors {
  public:
    reported_errors()
        : previous_(
              concert::set_error_handler([this](std::exception_ptr e, std::string_view origin) {
                  const std::lock_guard lock(mutex_);
                  errors_.emplace_back(concert::describe(e), std::string(origin));
                  last_ = std::move(e);
              })) {}
    ~reported_errors() { concert::set_error_handler(std::move(previous_)); }
    reported_errors(const reported_errors&) = delete;
    reported_errors& operator=(const reported_errors&) = delete;

    // (description, origin) pairs, in report order.
    std::vector<std::pair<std::string, std::string>> errors() {
        const std::lock_guard lock(mutex_);
        return errors_;
    }
    std::exception_ptr last() {
        const std::lock_guard lock(mutex_);
        return last_;
    }

  private:
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::string>> errors_;
    std::exception_ptr last_;
    concert::error_handler previous_;
};

// The descriptions alone, in report order.
inline std::vector<std::string> descriptions(
    const std::vector<std::pair<std::string, std::string>>& errors) {
    std::vector<std::string> result;
    for (const auto& e : errors) {
        result.push_back(e.first);
    }
    return result;
}

// What a child process printed (stdout and stderr, if the command redirects it) and how it ended.
struct child_result {
    int exit_status = -1;  // -1 unless the child exited normally
    std::string output;
};

// Runs `command` through the shell and collects its output until it exits.
inline child_result run_command(const std::string& command) {
    child_result result;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "cannot start " << command;
        return result;
    }
    std::array<char, 256> buffer{};
    while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
        result.output += buffer.data();
    }
    const int status = ::pclose(pipe);
    if (WIFEXITED(status)) {
        result.exit_status = WEXITSTATUS(status);
    }
    return result;
}

}  // namespace concert::testing

// For behaviours that need tasks to run concurrently, which --disable-async rules out by design.
#define CONCERT_SKIP_WHEN_INLINE()                                                \
    do {                                                                          \
        if (concert::async_disabled()) {                                          \
            GTEST_SKIP() << "needs concurrent tasks; async is disabled (inline)"; \
        }                                                                         \
    } while (false)
