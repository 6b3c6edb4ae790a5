// Built with CONCERT_DISABLE_ASYNC against the library built without it: it must not link (see
// tests/CMakeLists.txt), since its calls would silently run inline while the library's pool runs.
#include <concert/concert.hpp>

int main() {
    return concert::submit([] { return 0; }).result();
}
