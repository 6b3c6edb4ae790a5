// What futures need from the library: the parking table their waiters sleep on (one for the whole
// process, shared by a shared build and its users), and the error for a future without state.
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

}  // namespace concert::detail
