// concert::filter and concert::map between a producer and a sink: readings above a threshold,
// converted to millimetres, kept in a vector.
#include <cstdio>
#include <vector>

#include <concert/coroutines.hpp>

concert::generator<int> readings() {
    for (int i = 1; i <= 8; ++i) {
        co_yield i * 7 % 10;  // 7 4 1 8 5 2 9 6 (tenths of a millimetre)
    }
}

int main() {
    // [map-filter]
    std::vector<double> kept;
    concert::inject(readings(), concert::filter([](int r) { return r > 4; },
                                                concert::map([](int r) { return r / 10.0; },
                                                             concert::append_to(kept))));
    // [map-filter]
    for (double mm : kept) {
        std::printf("%.1f mm\n", mm);
    }
}
