// The seed's Coroutines section in C++: a generator, a consumer coroutine, inject, and broadcast.
#include <cstdio>

#include <concert/coroutines.hpp>

// [generate]
concert::generator<int> generate() {
    for (int i = 0; i < 3; ++i) {
        co_yield i;
    }
}

concert::coroutine<int> consume() {
    for (;;) {
        int item = co_await concert::receive;  // Python: item = yield
        std::printf("%d\n", item);
    }
}
// [generate]

int main() {
    // [inject]
    concert::inject(generate(), consume());
    // [inject]

    // [broadcast]
    concert::inject(generate(), concert::broadcast(consume(), consume()));
    // [broadcast]
}
