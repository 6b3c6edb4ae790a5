// Benchmarks of the coroutine pipes (issue 4): the per-item cost of inject from a generator into a
// coroutine consumer, a lambda and a broadcast to two consumers, side by side with a plain loop
// calling the same function and with Boost.Coroutine2 in the same run; then buffered items/s and
// the target ratios (medians of the repetitions).
#include <benchmark/benchmark.h>
#include <unistd.h>

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
#include <map>
#include <string>
#include <vector>

#include <concert/coroutines.hpp>

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

// Keeps the median items/s of every benchmark for the summary.
class median_collector : public benchmark::ConsoleReporter {
  public:
    using ConsoleReporter::ConsoleReporter;

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& run : runs) {
            const bool only_run = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
            if (only_run || run.aggregate_name == "median") {
                const auto rate = run.counters.find("items_per_second");
                if (rate != run.counters.end()) {
                    items_per_second[run.run_name.str()] = rate->second.value;
                }
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }

    std::map<std::string, double> items_per_second;
};

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

void print_summary(const median_collector& reporter) {
    const auto& rates = reporter.items_per_second;
    fmt::print("\nPer-item ratios (medians; how many times slower the first is):\n");
    for (const auto& r : ratios) {
        const auto slow = rates.find(r.slow);
        const auto fast = rates.find(r.fast);
        if (slow == rates.end() || fast == rates.end()) {
            continue;
        }
        fmt::print("  {:<52} {:6.2f}x  {}\n", r.what, fast->second / slow->second,
                   *r.target != '\0' ? fmt::format("(target {})", r.target) : "");
    }
    for (const char* name :
         {"inject_into_buffered/64/real_time", "inject_into_buffered/1024/real_time"}) {
        if (const auto rate = rates.find(name); rate != rates.end()) {
            fmt::print("  {:<52} {:6.1f} M items/s (target >= 10)\n", name, rate->second / 1e6);
        }
    }
}

bool has_flag(const std::vector<char*>& args, const std::string& flag) {
    for (const char* arg : args) {
        if (std::string(arg).rfind(flag, 0) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<char*> args(argv, argv + argc);
    std::string repetitions = "--benchmark_repetitions=5";
    std::string aggregates_only = "--benchmark_display_aggregates_only=true";
    if (!has_flag(args, "--benchmark_repetitions")) {
        args.push_back(repetitions.data());
    }
    if (!has_flag(args, "--benchmark_display_aggregates_only")) {
        args.push_back(aggregates_only.data());
    }
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) {
        return 1;
    }
    median_collector reporter(isatty(STDOUT_FILENO) != 0 ? benchmark::ConsoleReporter::OO_Color
                                                         : benchmark::ConsoleReporter::OO_None);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    print_summary(reporter);
    benchmark::Shutdown();
    return 0;
}
