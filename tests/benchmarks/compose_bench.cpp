// Benchmarks of composed futures (issue 11): a then chain of 1,000 and a when_all of 1,000, side by
// side with boost::future (Boost.Thread's version 4 interface, with executors) in one run, on pools
// of two threads.
#define BOOST_THREAD_VERSION 4
#define BOOST_THREAD_PROVIDES_EXECUTORS
#define BOOST_THREAD_PROVIDES_FUTURE_CONTINUATION
#define BOOST_THREAD_PROVIDES_FUTURE_WHEN_ALL_WHEN_ANY

#include <cstdint>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <boost/thread/executors/basic_thread_pool.hpp>
#include <boost/thread/future.hpp>

#include <concert/concert.hpp>

#include "bench_support.hpp"

namespace {

constexpr int workers = 2;
constexpr std::int64_t links = 1000;

void concert_then_chain(benchmark::State& state) {
    concert::thread_pool pool(workers);
    for (auto _ : state) {
        concert::promise<std::int64_t> start;
        concert::future<std::int64_t> last = start.get_future();
        for (std::int64_t i = 0; i < links; ++i) {
            last = last.then(pool, [](std::int64_t x) { return x + 1; });
        }
        start.set_value(0);
        benchmark::DoNotOptimize(last.result());
    }
    state.SetItemsProcessed(state.iterations() * links);
}

void boost_then_chain(benchmark::State& state) {
    boost::executors::basic_thread_pool pool(workers);
    for (auto _ : state) {
        boost::promise<std::int64_t> start;
        boost::future<std::int64_t> last = start.get_future();
        for (std::int64_t i = 0; i < links; ++i) {
            last = last.then(pool, [](boost::future<std::int64_t> x) { return x.get() + 1; });
        }
        start.set_value(0);
        benchmark::DoNotOptimize(last.get());
    }
    state.SetItemsProcessed(state.iterations() * links);
}

void concert_when_all(benchmark::State& state) {
    concert::thread_pool pool(workers);
    std::vector<concert::future<int>> futures;
    futures.reserve(links);
    for (auto _ : state) {
        for (std::int64_t i = 0; i < links; ++i) {
            futures.push_back(pool.submit([] { return 1; }));
        }
        concert::when_all(futures).wait();
        futures.clear();
    }
    state.SetItemsProcessed(state.iterations() * links);
}

void boost_when_all(benchmark::State& state) {
    boost::executors::basic_thread_pool pool(workers);
    std::vector<boost::future<int>> futures;
    futures.reserve(links);
    for (auto _ : state) {
        for (std::int64_t i = 0; i < links; ++i) {
            futures.push_back(boost::async(pool, [] { return 1; }));
        }
        boost::when_all(futures.begin(), futures.end()).get();
        futures.clear();
    }
    state.SetItemsProcessed(state.iterations() * links);
}

void print_summary(const concert::bench::median_collector& results) {
    struct ratio {
        std::string_view label, peer, ours;
    };
    constexpr ratio ratios[] = {
        {"then chain of 1,000: concert / boost::future", "then_chain_1k/boost",
         "then_chain_1k/concert"},
        {"when_all of 1,000: concert / boost::future", "when_all_1k/boost", "when_all_1k/concert"},
    };
    fmt::print("\nRatios in this run (throughput, higher is better for concert; target >= 3):\n");
    for (const auto& r : ratios) {
        const auto peer = results.median_ns(r.peer);
        const auto ours = results.median_ns(r.ours);
        if (!peer || !ours) {
            fmt::print("  {:<50} not run\n", r.label);
            continue;
        }
        const double value = *peer / *ours;
        fmt::print("  {:<50} {:>6.2f}  {}\n", r.label, value, value >= 3 ? "holds" : "MISSED");
    }
}

}  // namespace

int main(int argc, char** argv) {
    return concert::bench::run(
        argc, argv,
        {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
         "--benchmark_display_aggregates_only=true"},
        [] {
            for (auto [name, body] : {std::pair{"then_chain_1k/concert", &concert_then_chain},
                                      std::pair{"then_chain_1k/boost", &boost_then_chain},
                                      std::pair{"when_all_1k/concert", &concert_when_all},
                                      std::pair{"when_all_1k/boost", &boost_when_all}}) {
                benchmark::RegisterBenchmark(name, body)
                    ->UseRealTime()
                    ->Unit(benchmark::kMicrosecond);
            }
        },
        print_summary);
}
