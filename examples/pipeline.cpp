// A coroutine pipe: a simulated detector produces frames; a broadcast feeds a running average and,
// through a buffered stage on its own thread, a slow writer, so production never waits for it.
#include <fmt/format.h>
#include <optional>
#include <vector>

#include <concert/concert.hpp>

// The producer: one "frame" (here, its mean intensity) per exposure.
concert::generator<double> acquire(int frames) {
    for (int i = 0; i < frames; ++i) {
        co_yield 100.0 + (i % 5);
    }
}

// A primed consumer holding state across items; at the end of the input it reports.
// [average]
concert::coroutine<double> average() {
    double sum = 0;
    int count = 0;
    while (std::optional<double> frame = co_await concert::receive_or_end) {
        sum += *frame;
        ++count;
    }
    fmt::print("average of {} frames: {:.1f}\n", count, sum / count);
}
// [average]

int main() {
    std::vector<double> written;  // the "disk"; read only after the pipe closed the stage
    concert::counter<double> frames;
    // [pipe]
    concert::inject(
        acquire(20),
        concert::broadcast(average(), frames, concert::buffered(concert::append_to(written), 64)));
    // [pipe]
    fmt::print("{} frames acquired, {} written, the last one {}\n", frames.count(), written.size(),
               written.back());
    return written.size() == frames.count() ? 0 : 1;
}
