// concert::task_origin: where a task was submitted, and the name its concert::async wrapper gave
// it, so that an error report points at the caller rather than at a worker thread.
#pragma once

#include <exception>
#include <source_location>
#include <string>
#include <string_view>

#include <concert/export.hpp>

namespace concert {

/// Where a task comes from. Every future records one: the source location of the submit, post or
/// wrapper call that made it (of the then() or when_*() call for a continuation, of the
/// construction for a promise), and the name given to concert::async, if any. A plain value: copy
/// it freely; the name's characters live as long as the program.
struct task_origin {
    /// The wrapper's name ("move x"), or empty.
    std::string_view name;
    /// The call that submitted the task. A default-constructed location (line 0) when unknown,
    /// as for a future adopted from a standard one.
    std::source_location where;
};

/// "move x (scan.cpp:42)", or "scan.cpp:42" without a name, or the name alone when the location
/// is unknown; the file without its folders. Throws std::bad_alloc; thread-safe.
inline std::string to_string(const task_origin& origin) {
    std::string_view file = origin.where.file_name();
    if (const auto slash = file.find_last_of('/'); slash != std::string_view::npos) {
        file.remove_prefix(slash + 1);
    }
    std::string place;
    if (origin.where.line() != 0) {
        place.append(file).append(":").append(std::to_string(origin.where.line()));
    }
    if (origin.name.empty()) {
        return place;
    }
    std::string named(origin.name);
    if (!place.empty()) {
        named.append(" (").append(place).append(")");
    }
    return named;
}

namespace detail {

// A copy of `name` that lives as long as the program (names are few: one per wrapper made),
// so that every future can keep a view of it. Thread-safe; throws std::bad_alloc.
CONCERT_API std::string_view lasting_name(std::string_view name);

enum class failure_kind {
    unobserved,  // a task failed and its futures were dropped without the failure being read
    detached,    // a fire-and-forget task threw
};

// Reports a task's failure to the error handler, naming its origin.
CONCERT_API void report_task_failure(std::exception_ptr error, const task_origin& origin,
                                     failure_kind kind) noexcept;

}  // namespace detail

}  // namespace concert
