// DISABLE set by a static initialiser, before anything else runs: every asynchronous call then runs
// inline on the caller's thread and still returns a future.
#include <cstdio>
#include <thread>

#include <concert/concert.hpp>

// [disable]
// Python: from concert.helpers import DISABLE; DISABLE = True (before importing anything else)
const bool async_disabled_at_start = [] {
    concert::DISABLE = true;
    return true;
}();
// [disable]

int main() {
    const auto caller = std::this_thread::get_id();
    auto where = concert::async([] { return std::this_thread::get_id(); })();
    std::printf("DISABLE %s, finished at once %s, ran on the caller's thread %s\n",
                async_disabled_at_start && concert::async_disabled() ? "on" : "off",
                where.done() ? "yes" : "no", where.result() == caller ? "yes" : "no");
}
