// Fire and forget with post: nobody waits for the task, so its exception goes to the error handler,
// which the program replaces with its own (a log) and restores at the end.
#include <cstdio>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <concert/concert.hpp>

int main() {
    // [error-handler]
    std::mutex log_mutex;
    std::vector<std::string> log;
    auto previous =
        concert::set_error_handler([&](std::exception_ptr error, std::string_view origin) {
            const std::lock_guard lock(log_mutex);  // handlers run on whichever thread failed
            log.push_back(std::string(origin) + ": " + concert::describe(error));
        });

    {
        concert::thread_pool pool{2};
        pool.post([] { throw std::runtime_error("the shutter did not close"); });
        pool.post([] { /* a task that succeeds reports nothing */ });
    }  // the pool's destructor runs every queued task, then joins its workers

    concert::set_error_handler(previous);
    // [error-handler]
    for (const auto& line : log) {
        std::printf("%s\n", line.c_str());
    }
}
