// The runtime DISABLE flag, initialised from the environment at start-up.
#include <cstdlib>
#include <string_view>

#include <concert/disable.hpp>

namespace concert {

namespace {
bool disabled_by_environment() noexcept {
    const char* value = std::getenv("CONCERT_DISABLE_ASYNC");
    return value != nullptr && std::string_view(value) == "1";
}
}  // namespace

std::atomic<bool> DISABLE{disabled_by_environment()};

}  // namespace concert
