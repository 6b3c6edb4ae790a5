// What futures need from the library: the parking table their waiters sleep on (one for the whole
// process, shared by a shared build and its users), the error for a future without state, and
// tasks' origins (the names that outlive their wrappers, the reports that name them).
#include <mutex>
#include <string>
#include <unordered_set>

#include <fmt/format.h>

#include <concert/detail/event_count.hpp>
#include <concert/future.hpp>

namespace concert::detail {

event_count& parking_slot(const void* object) noexcept {
    struct alignas(64) padded {
        event_count slot;
    };
    static constexpr std::size_t slots = 64;
    static padded table[slots];
    const auto bits = reinterpret_cast<std::uintptr_t>(object);
    return table[((bits >> 6) ^ (bits >> 12)) % slots].slot;
}

void throw_invalid_future(const char* operation) {
    throw invalid_future(fmt::format(
        "concert::future::{}() on a future with no state (default-constructed or moved-from)",
        operation));
}

std::string_view lasting_name(std::string_view name) {
    if (name.empty()) {
        return {};
    }
    // Never destroyed: futures made during static destruction may still point into it. Nodes of
    // an unordered_set keep their address when it grows.
    static auto* const names = new std::unordered_set<std::string>();
    static std::mutex lock;
    const std::scoped_lock hold(lock);
    return *names->emplace(name).first;
}

void report_task_failure(std::exception_ptr error, const task_origin& origin,
                         failure_kind kind) noexcept {
    std::string where;
    try {
        const std::string place = to_string(origin);
        if (kind == failure_kind::detached) {
            where = place.empty() ? "a fire-and-forget task"
                                  : fmt::format("a fire-and-forget task posted at {}", place);
        } else {
            constexpr std::string_view dropped =
                "whose future was dropped without its failure being read";
            where = place.empty() ? fmt::format("a task {}", dropped)
                    : origin.name.empty()
                        ? fmt::format("the task submitted at {}, {}", place, dropped)
                        : fmt::format("{}, a task {}", place, dropped);
        }
    } catch (...) {
        where = {};  // out of memory: report the error without its origin
    }
    report_error(std::move(error), where.empty() ? std::string_view("a task") : where);
}

}  // namespace concert::detail
