// The seed's Concurrency section in C++: a function made asynchronous, the future it returns,
// wait() that rethrows, and concert::wait over several futures.
#include <cstdio>
#include <stdexcept>

#include <concert/concert.hpp>

int main() {
    // [async]
    auto synchronous_function = concert::async([] {
        // long running operation
        return 1;
    });
    // [async]

    // [future]
    concert::future<int> future = synchronous_function();
    int result = future.result();  // blocks until the task has finished
    std::printf("result %d, done %s\n", result, future.done() ? "true" : "false");
    // [future]

    // [wait]
    auto failing_function =
        concert::async([]() -> int { throw std::runtime_error("motor stalled"); });
    try {
        int value = failing_function().wait().result();
        std::printf("unexpected %d\n", value);
    } catch (const std::exception& e) {
        std::printf("failing_function raised an exception: %s\n", e.what());
    }
    // [wait]

    // [wait-many]
    auto first = synchronous_function();
    auto second = synchronous_function();
    concert::wait(first, second);  // both finished; the first exception, if any, is rethrown
    std::printf("sum %d\n", first.result() + second.result());
    // [wait-many]
}
