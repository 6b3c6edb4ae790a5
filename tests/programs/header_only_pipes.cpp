// Only <concert/coroutines.hpp> and no concert library linked: the coroutine pipes are
// header-only. Covers what reaches the error handler and DISABLE (a buffered stage and a failing
// consumer coroutine).
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <concert/coroutines.hpp>

namespace {

concert::generator<int> generate() {
    for (int i = 0; i < 3; ++i) {
        co_yield i;
    }
}

concert::coroutine<int> print() {
    while (std::optional<int> item = co_await concert::receive_or_end) {
        std::printf("%d\n", *item);
    }
}

// Fails while being primed; nobody sends to it, so its destruction reports the exception.
concert::coroutine<int> fail(bool now) {
    if (now) {
        throw std::runtime_error("unreceived");
    }
    static_cast<void>(co_await concert::receive);
}

}  // namespace

int main() {
    std::vector<int> kept;
    concert::inject(generate(),
                    concert::broadcast(print(), concert::buffered(concert::append_to(kept), 4)));
    int sum = 0;
    for (int item : kept) {
        sum += item;
    }
    std::printf("sum %d\n", sum);

    int reported = 0;
    concert::set_error_handler([&reported](std::exception_ptr, std::string_view) { ++reported; });
    static_cast<void>(fail(true));
    concert::set_error_handler({});
    return reported == 1 ? 0 : 1;
}
