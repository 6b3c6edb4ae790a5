// A consumer's program on the Tango bridge: <concert/concert.hpp> includes <concert/tango.hpp>
// once the program links concert::tango, and a device that cannot be reached (nothing listens on
// loopback port 1) is a concert::tango::error.
#include <cstdio>

#include <concert/concert.hpp>

int main() {
    try {
        concert::tango::device unreachable{"tango://127.0.0.1:1/sys/tg_test/1#dbase=no"};
        std::puts("connected to nothing");
        return 1;
    } catch (const concert::tango::error& e) {
        std::printf("unreachable: %s\n", e.reason().c_str());
    }
}
