// Benchmarks of the coroutine pipes (issue 4): the per-item cost of inject from a generator into a
// coroutine consumer, a lambda and a broadcast to two consumers, side by side with a plain loop
// calling the same function and with Boost.Coroutine2 in the same run; then buffered items/s and
// the target ratios (medians of the repetitions).
#include <benchmark/benchmark.h>

#include <fmt/format.h>
// g++ -O3 warns inside Boost.Coroutine2's own code (a false maybe-uninitialized); not ours to fix.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/coroutine2/all.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <cstdint>
#include <string>
#include <vector>

#include <concert/coroutines.hpp>

#include "bench_support.hpp"

namespace {

constexpr int items_per_batch = 100'000;
constexpr int buffered_items_per_batch = 1'000'000;

// The work every consumer does per item, out of line so that no variant can fold it away: the
// ratios measure what the plumbing adds around the same call.
[[gnu::noinline]] void consume(std::int64_t& sum, int item) {
    sum += item;
    benchmark::ClobberMemory();
}

concert::generator<int> produce(int n) {
    for (int i = 0; i < n; ++i) {
        co_yield i;
    }
}

concert::coroutine<int> summing(std::int64_t& sum) {
    for (;;) {
        consume(sum, co_await concert::receive);
    }
}

void finish_batch(benchmark::State& state, std::int64_t sum, int items) {
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() * items);
}

void plain_loop(benchmark::State& state) {
    std::int64_t sum = 0;
    for (auto _ : state) {
        for (int i = 0; i < items_per_batch; ++i) {
            consume(sum, i);
        }
    }
    finish_batch(state, sum, items_per_batch);
}

void plain_loop_two_calls(benchmark::State& state) {
    std::int64_t sum = 0;
    for (auto _ : state) {
        for (int i = 0; i < items_per_batch; ++i) {
            consume(sum, i);
            consume(sum, i);
        }
    }
    finish_batch(state, sum, items_per_batch);
}

void send_to_coroutine(benchmark::State& state) {
    std::int64_t sum = 0;
    auto consumer = summing(sum);
    for (auto _ : state) {
        for (int i = 0; i < items_per_batch; ++i) {
            consumer.send(i);
        }
    }
    finish_batch(state, sum, items_per_batch);
}

void inject_into_coroutine(benchmark::State& state) {
    std::int64_t sum = 0;
    auto consumer = summing(sum);
    for (auto _ : state) {
        concert::inject(produce(items_per_batch), consumer);
    }
    finish_batch(state, sum, items_per_batch);
}

void inject_into_lambda(benchmark::State& state) {
    std::int64_t sum = 0;
    for (auto _ : state) {
        concert::inject(produce(items_per_batch), [&](int x) { consume(sum, x); });
    }
    finish_batch(state, sum, items_per_batch);
}

void inject_into_broadcast_of_two(benchmark::State& state) {
    std::int64_t sum = 0;
    auto first = summing(sum);
    auto second = summing(sum);
    auto both = concert::broadcast(first, second);
    for (auto _ : state) {
        concert::inject(produce(items_per_batch), both);
    }
    finish_batch(state, sum, items_per_batch);
}

using boost_coroutine = boost::coroutines2::coroutine<int>;

void boost_push_type(benchmark::State& state) {
    std::int64_t sum = 0;
    boost_coroutine::push_type consumer([&](boost_coroutine::pull_type& source) {
        for (int x : source) {
            consume(sum, x);
        }
    });
    for (auto _ : state) {
        for (int i = 0; i < items_per_batch; ++i) {
            consumer(i);
        }
    }
    finish_batch(state, sum, items_per_batch);
}

void boost_pull_into_push(benchmark::State& state) {
    std::int64_t sum = 0;
    boost_coroutine::push_type consumer([&](boost_coroutine::pull_type& source) {
        for (int x : source) {
            consume(sum, x);
        }
    });
    for (auto _ : state) {
        boost_coroutine::pull_type producer([](boost_coroutine::push_type& sink) {
            for (int i = 0; i < items_per_batch; ++i) {
                sink(i);
            }
        });
        for (int x : producer) {
            consumer(x);
        }
    }
    finish_batch(state, sum, items_per_batch);
}

// One stage per batch: the figure includes starting its thread and draining it at close.
void inject_into_buffered(benchmark::State& state) {
    std::int64_t sum = 0;
    const auto capacity = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        concert::inject(produce(buffered_items_per_batch),
                        concert::buffered([&](int x) { consume(sum, x); }, capacity));
    }
    finish_batch(state, sum, buffered_items_per_batch);
}

BENCHMARK(plain_loop);
BENCHMARK(plain_loop_two_calls);
BENCHMARK(send_to_coroutine);
BENCHMARK(inject_into_coroutine);
BENCHMARK(inject_into_lambda);
BENCHMARK(inject_into_broadcast_of_two);
BENCHMARK(boost_push_type);
BENCHMARK(boost_pull_into_push);
BENCHMARK(inject_into_buffered)->Arg(64)->Arg(1024)->UseRealTime();

// How many times slower `slow` is than `fast` per item, from their median throughputs.
struct ratio {
    const char* what;
    const char* slow;
    const char* fast;
    const char* target;
};

constexpr ratio ratios[] = {
    {"inject generator -> coroutine vs plain loop", "inject_into_coroutine", "plain_loop", "<= 4"},
    {"inject generator -> lambda vs plain loop", "inject_into_lambda", "plain_loop", ""},
    {"inject -> broadcast to two vs plain loop, two calls", "inject_into_broadcast_of_two",
     "plain_loop_two_calls", ""},
    {"coroutine send() vs plain loop", "send_to_coroutine", "plain_loop", ""},
    {"Boost pull_type -> push_type vs concert inject", "boost_pull_into_push",
     "inject_into_coroutine", ">= 3"},
    {"Boost push_type vs concert send()", "boost_push_type", "send_to_coroutine", ">= 3"},
};

void print_summary(const concert::bench::median_collector& results) {
    fmt::print("\nPer-item ratios (medians; how many times slower the first is):\n");
    for (const auto& r : ratios) {
        const auto slow = results.items_per_second(r.slow);
        const auto fast = results.items_per_second(r.fast);
        if (!slow || !fast) {
            continue;
        }
        fmt::print("  {:<52} {:6.2f}x  {}\n", r.what, *fast / *slow,
                   *r.target != '\0' ? fmt::format("(target {})", r.target) : "");
    }
    for (const char* name : {"inject_into_buffered/64", "inject_into_buffered/1024"}) {
        if (const auto rate = results.items_per_second(name)) {
            fmt::print("  {:<52} {:6.1f} M items/s (target >= 10)\n", name, *rate / 1e6);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    return concert::bench::run(
        argc, argv, {"--benchmark_repetitions=5", "--benchmark_display_aggregates_only=true"},
        [] {}, print_summary);
}
