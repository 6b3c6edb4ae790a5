// concert::task_origin: where a task was submitted, and the name its concert::async wrapper gave
// it, so that an error report points at the caller rather than at a worker thread.
#pragma once

#include <cstdint>
#include <exception>
#include <version>
#if __has_include(<source_location>)
#include <source_location>
#endif
#include <string>
#include <string_view>

#include <concert/export.hpp>

namespace concert {

/// A place in the source, with the interface of std::source_location (file_name, function_name,
/// line, column, current). concert has its own because clang 14 with libstdc++ has no
/// std::source_location, and a type that changed with the compiler would make code built by two
/// compilers disagree on the layout of every future's state. Converts from std::source_location
/// where that exists. A plain value; thread-safe.
class source_location {
  public:
    /// The place of the call of current(): used as a default argument, of the caller of the
    /// function whose parameter it is. The column is 0 where the compiler cannot tell it (g++ 12).
#if defined(CONCERT_DOXYGEN)
    static constexpr source_location current() noexcept;
#else
    static constexpr source_location current(const char* file = __builtin_FILE(),
                                             const char* function = __builtin_FUNCTION(),
                                             std::uint_least32_t line = __builtin_LINE(),
#if __has_builtin(__builtin_COLUMN)
                                             std::uint_least32_t column = __builtin_COLUMN()
#else
                                             std::uint_least32_t column = 0
#endif
                                                 ) noexcept {
        source_location here;
        here.file_ = file;
        here.function_ = function;
        here.line_ = line;
        here.column_ = column;
        return here;
    }
#endif

    /// An unknown place: empty names, line 0.
    constexpr source_location() noexcept = default;

#if defined(__cpp_lib_source_location)
    /// The same place as a standard source location.
    constexpr source_location(  // NOLINT(google-explicit-constructor): the same thing
        const std::source_location& standard) noexcept
        : file_(standard.file_name()),
          function_(standard.function_name()),
          line_(standard.line()),
          column_(standard.column()) {}
#endif

    /// The file's name as the compiler was given it; "" when unknown.
    constexpr const char* file_name() const noexcept {
        return file_;
    }
    /// The enclosing function's name; "" when unknown.
    constexpr const char* function_name() const noexcept {
        return function_;
    }
    /// The line, from 1; 0 when unknown.
    constexpr std::uint_least32_t line() const noexcept {
        return line_;
    }
    /// The column, from 1; 0 when unknown.
    constexpr std::uint_least32_t column() const noexcept {
        return column_;
    }

  private:
    const char* file_ = "";
    const char* function_ = "";
    std::uint_least32_t line_ = 0;
    std::uint_least32_t column_ = 0;
};

/// Where a task comes from. Every future records one: the source location of the submit, post or
/// wrapper call that made it (of the then() or when_*() call for a continuation, of the
/// construction for a promise), and the name given to concert::async, if any. A plain value: copy
/// it freely; the name's characters live as long as the program.
struct task_origin {
    /// The wrapper's name ("move x"), or empty.
    std::string_view name;
    /// The call that submitted the task; line 0 when unknown.
    concert::source_location where;
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
