// An explicit concert::thread_pool: four detectors read out at once on a pool of their own, apart
// from the default pool, and a wrapper from concert::async bound to that pool.
#include <cstdio>
#include <vector>

#include <concert/concert.hpp>

int read_out(int detector) {
    return 100 * (detector + 1);  // a blocking read-out
}

int main() {
    // [explicit-pool]
    concert::thread_pool detectors{4};  // destroyed last: it runs what is queued, then joins
    std::vector<concert::future<int>> counts;
    for (int d = 0; d < 4; ++d) {
        counts.push_back(detectors.submit(read_out, d));
    }
    concert::wait(counts);  // every read-out has finished; the first exception is rethrown

    auto on_detectors =
        concert::async(detectors, [&detectors] { return detectors.is_worker_thread(); });
    // [explicit-pool]

    int total = 0;
    for (const auto& c : counts) {
        total += c.result();
    }
    std::printf("%zu read-outs, %d counts; async on the pool's worker: %s\n", counts.size(), total,
                on_detectors().result() ? "yes" : "no");
}
