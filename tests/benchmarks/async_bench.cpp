// Benchmarks of the core (issue 3): concert's pool side by side with std::async, Boost.Asio's
// thread_pool and oneTBB's task_arena in one run, the physical limit, and the target
// ratios.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <concert/concert.hpp>

#include "bench_support.hpp"

namespace {

// libtbb is not built with ThreadSanitizer: TSan cannot see its queue's ordering (it reports races
// on every task handed over) and its workers wake a hundred times slower, so a TSan build leaves it
// out.
#if defined(__SANITIZE_THREAD__)
constexpr bool run_tbb = false;
#elif defined(__has_feature)
constexpr bool run_tbb = !__has_feature(thread_sanitizer);
#else
constexpr bool run_tbb = true;
#endif

// Every peer gets the same number of workers: the core count of the machine class the issue's
// targets were set on.
constexpr int workers = 2;
constexpr std::int64_t futures_batch = 100'000;
constexpr std::int64_t posts_batch = 1'000'000;

constexpr auto empty_task = [] {};

// ---- The peers, each with the same operations: submit (returns a future) and post (no future).

// concert on a pool of `workers` threads, or on the default pool (sized for blocking device calls).
class concert_peer {
  public:
    concert_peer() : owned_(std::make_unique<concert::thread_pool>(workers)), pool_(*owned_) {}
    explicit concert_peer(concert::thread_pool& pool) : pool_(pool) {}

    template <class F>
    auto submit(F f) {
        return pool_.submit(std::move(f));
    }

    template <class F>
    void post(F f) {
        pool_.post(std::move(f));
    }

  private:
    std::unique_ptr<concert::thread_pool> owned_;
    concert::thread_pool& pool_;
};

// Pools without futures of their own get them the standard way, through std::packaged_task.
template <class F, class Enqueue>
auto submit_packaged(F f, Enqueue enqueue) {
    std::packaged_task<std::invoke_result_t<F&>()> task(std::move(f));
    auto result = task.get_future();
    enqueue(std::move(task));
    return result;
}

class asio_peer {
  public:
    template <class F>
    auto submit(F f) {
        return submit_packaged(std::move(f),
                               [this](auto task) { boost::asio::post(pool_, std::move(task)); });
    }

    template <class F>
    void post(F f) {
        boost::asio::post(pool_, std::move(f));
    }

  private:
    boost::asio::thread_pool pool_{workers};
};

// oneTBB stores a const functor; a packaged task is called once but not const, hence `mutable`.
template <class Task>
struct const_callable {
    mutable Task task;
    void operator()() const { task(); }
};

class tbb_peer {
  public:
    template <class F>
    auto submit(F f) {
        return submit_packaged(std::move(f), [this](auto task) {
            arena_.enqueue(const_callable<decltype(task)>{std::move(task)});
        });
    }

    template <class F>
    void post(F f) {
        arena_.enqueue(std::move(f));
    }

  private:
    // oneTBB allows one worker per core minus one for the main thread by default; here the main
    // thread only submits, so the limit is raised to give the arena `workers` worker threads.
    tbb::global_control parallelism_{tbb::global_control::max_allowed_parallelism, workers + 1};
    tbb::task_arena arena_{workers, 0};
};

// A thread per call; it has no fire-and-forget form (its future's destructor waits).
class std_async_peer {
  public:
    template <class F>
    auto submit(F f) {
        return std::async(std::launch::async, std::move(f));
    }
};

// ---- The physical limit: a token handed back and forth between two threads.

enum class handoff { wait_notify, spin };

class ping_pong {
  public:
    explicit ping_pong(handoff how) : how_(how), partner_([this] { serve(); }) {}

    ping_pong(const ping_pong&) = delete;
    ping_pong& operator=(const ping_pong&) = delete;

    ~ping_pong() {
        stopping_.store(true, std::memory_order_relaxed);
        hand_over(turn_.load(std::memory_order_relaxed) + 1);
        partner_.join();
    }

    // Hands the token to the partner and waits until it comes back: odd values are the partner's
    // turn, even values the caller's.
    void round_trip() {
        const auto sent = turn_.load(std::memory_order_relaxed) + 1;
        hand_over(sent);
        await_change_from(sent);
    }

  private:
    void serve() {
        std::uint32_t returned = 0;
        for (;;) {
            await_change_from(returned);
            if (stopping_.load(std::memory_order_relaxed)) {
                return;
            }
            returned += 2;
            hand_over(returned);
        }
    }

    void hand_over(std::uint32_t value) {
        turn_.store(value, std::memory_order_release);
        if (how_ == handoff::wait_notify) {
            turn_.notify_one();
        }
    }

    void await_change_from(std::uint32_t value) {
        if (how_ == handoff::wait_notify) {
            turn_.wait(value, std::memory_order_acquire);
            return;
        }
        while (turn_.load(std::memory_order_acquire) == value) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }

    const handoff how_;
    std::atomic<std::uint32_t> turn_{0};
    std::atomic<bool> stopping_{false};
    std::thread partner_;
};

// Counts fire-and-forget tasks down and wakes the submitter after the last one. It outlives the
// timed loop, so the last task's notify never touches a destroyed object.
class countdown {
  public:
    void reset(std::int64_t tasks) {
        left_.store(tasks, std::memory_order_relaxed);
        finished_.store(0, std::memory_order_relaxed);
    }

    void count_down() noexcept {
        if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            finished_.store(1, std::memory_order_release);
            finished_.notify_one();
        }
    }

    void wait() const noexcept { finished_.wait(0, std::memory_order_acquire); }

  private:
    std::atomic<std::int64_t> left_{0};
    std::atomic<int> finished_{0};
};

// ---- The benchmark bodies; `make_peer` returns a fresh peer, started outside the timed loop.

void ping_pong_limit(benchmark::State& state, handoff how) {
    ping_pong token(how);
    for (auto _ : state) {
        token.round_trip();
    }
}

template <class MakePeer>
void submit_wait_latency(benchmark::State& state, MakePeer make_peer) {
    auto peer = make_peer();
    for (auto _ : state) {
        peer.submit(empty_task).wait();
    }
}

// Submit+wait from inside a task of a pool of `workers`, to the same pool (the awaited task, not
// started yet, is a direct call) or to another pool of `workers` (the waiter spins, then parks
// inside a blocking_scope): the blocking path, against the same figure from outside.
constexpr std::int64_t nested_batch = 1000;

void nested_submit_wait_latency(benchmark::State& state, bool same_pool) {
    concert::thread_pool pool(workers);
    concert::thread_pool other(workers);
    concert::thread_pool& target = same_pool ? pool : other;
    for (auto _ : state) {
        pool.submit([&target] {
                for (std::int64_t i = 0; i < nested_batch; ++i) {
                    target.submit(empty_task).wait();
                }
            })
            .wait();
    }
    state.SetItemsProcessed(state.iterations() * nested_batch);
}

template <class MakePeer>
void futures_throughput(benchmark::State& state, MakePeer make_peer) {
    auto peer = make_peer();
    std::vector<decltype(peer.submit(empty_task))> futures;
    futures.reserve(futures_batch);
    for (auto _ : state) {
        for (std::int64_t i = 0; i < futures_batch; ++i) {
            futures.push_back(peer.submit(empty_task));
        }
        for (auto& f : futures) {
            f.wait();
        }
        futures.clear();
    }
    state.SetItemsProcessed(state.iterations() * futures_batch);
}

// std::async joins a task's thread only when its future is waited or destroyed, so holding 100,000
// futures would hold 100,000 unjoined threads: it keeps a window of them in flight instead.
void std_async_futures_throughput(benchmark::State& state) {
    constexpr std::size_t in_flight = 256;
    std::vector<std::future<void>> window(in_flight);
    for (auto _ : state) {
        for (std::int64_t i = 0; i < futures_batch; ++i) {
            // Assigning over a finished slot's future joins its thread.
            window[static_cast<std::size_t>(i) % in_flight] =
                std::async(std::launch::async, empty_task);
        }
        for (auto& f : window) {
            f.wait();
        }
    }
    state.SetItemsProcessed(state.iterations() * futures_batch);
}

template <class MakePeer>
void fire_and_forget_throughput(benchmark::State& state, MakePeer make_peer) {
    auto peer = make_peer();
    countdown tasks;
    for (auto _ : state) {
        tasks.reset(posts_batch);
        for (std::int64_t i = 0; i < posts_batch; ++i) {
            peer.post([&tasks] { tasks.count_down(); });
        }
        tasks.wait();
    }
    state.SetItemsProcessed(state.iterations() * posts_batch);
}

void disabled_submit_wait(benchmark::State& state) {
    const bool was_disabled = concert::DISABLE.exchange(true);
    for (auto _ : state) {
        concert::submit(empty_task).wait();
    }
    concert::DISABLE.store(was_disabled);
}

void packaged_task_direct_call(benchmark::State& state) {
    for (auto _ : state) {
        std::packaged_task<void()> task(empty_task);
        auto result = task.get_future();
        task();
        result.wait();
    }
}

// ---- Idle CPU: a plain measurement, since it is one second of doing nothing.

std::chrono::nanoseconds process_cpu_time() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto to_duration = [](timeval t) {
        return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
    };
    return to_duration(usage.ru_utime) + to_duration(usage.ru_stime);
}

// The process's CPU use, in percent of one core, over the idle second that follows a burst of work
// on the default pool: its spinning workers must go back to sleep.
double idle_cpu_percent_after_burst() {
    auto& pool = concert::default_pool();
    std::vector<concert::future<void>> burst;
    burst.reserve(futures_batch);
    for (std::int64_t i = 0; i < futures_batch; ++i) {
        burst.push_back(pool.submit(empty_task));
    }
    concert::wait(burst);
    for (int i = 0; i < 1000; ++i) {
        pool.submit(empty_task).wait();
    }
    const auto cpu_before = process_cpu_time();
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const std::chrono::duration<double> cpu = process_cpu_time() - cpu_before;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return 100.0 * cpu / elapsed;
}

// ---- Registration, and the summary of medians and target ratios.

// Tasks run per iteration of each benchmark with more than one, to print a per-task cost.
std::map<std::string, std::int64_t> tasks_per_iteration;

template <class Body, class... Args>
void add(const std::string& name, benchmark::TimeUnit unit, std::int64_t tasks, Body body,
         Args... args) {
    benchmark::RegisterBenchmark(name.c_str(), body, args...)->UseRealTime()->Unit(unit);
    if (tasks > 1) {
        tasks_per_iteration[name] = tasks;
    }
}

void register_benchmarks() {
    using benchmark::kMicrosecond;
    using benchmark::kMillisecond;
    using benchmark::kNanosecond;
    const auto concert_own = [] { return concert_peer{}; };
    const auto concert_default = [] { return concert_peer{concert::default_pool()}; };
    const auto asio = [] { return asio_peer{}; };
    const auto tbb = [] { return tbb_peer{}; };
    const auto std_async = [] { return std_async_peer{}; };

    add("limit/atomic_wait_ping_pong", kMicrosecond, 1, ping_pong_limit, handoff::wait_notify);
    add("limit/atomic_spin_ping_pong", kMicrosecond, 1, ping_pong_limit, handoff::spin);

    add("latency/concert", kMicrosecond, 1, submit_wait_latency<decltype(concert_own)>,
        concert_own);
    add("latency/concert_default_pool", kMicrosecond, 1,
        submit_wait_latency<decltype(concert_default)>, concert_default);
    add("latency/asio_packaged_task", kMicrosecond, 1, submit_wait_latency<decltype(asio)>, asio);
    add("latency/std_async", kMicrosecond, 1, submit_wait_latency<decltype(std_async)>, std_async);

    add("nested_1k/concert_same_pool", kMicrosecond, nested_batch, nested_submit_wait_latency,
        true);
    add("nested_1k/concert_other_pool", kMicrosecond, nested_batch, nested_submit_wait_latency,
        false);

    add("futures_100k/concert", kMillisecond, futures_batch,
        futures_throughput<decltype(concert_own)>, concert_own);
    add("futures_100k/concert_default_pool", kMillisecond, futures_batch,
        futures_throughput<decltype(concert_default)>, concert_default);
    add("futures_100k/asio_packaged_task", kMillisecond, futures_batch,
        futures_throughput<decltype(asio)>, asio);
    add("futures_100k/std_async_256_in_flight", kMillisecond, futures_batch,
        std_async_futures_throughput);

    add("fire_and_forget_1M/concert", kMillisecond, posts_batch,
        fire_and_forget_throughput<decltype(concert_own)>, concert_own);
    add("fire_and_forget_1M/concert_default_pool", kMillisecond, posts_batch,
        fire_and_forget_throughput<decltype(concert_default)>, concert_default);
    add("fire_and_forget_1M/asio", kMillisecond, posts_batch,
        fire_and_forget_throughput<decltype(asio)>, asio);
    if constexpr (run_tbb) {
        add("latency/tbb_enqueue_packaged_task", kMicrosecond, 1,
            submit_wait_latency<decltype(tbb)>, tbb);
        add("futures_100k/tbb_enqueue_packaged_task", kMillisecond, futures_batch,
            futures_throughput<decltype(tbb)>, tbb);
        add("fire_and_forget_1M/tbb_enqueue", kMillisecond, posts_batch,
            fire_and_forget_throughput<decltype(tbb)>, tbb);
    }

    add("inline/concert_disable", kNanosecond, 1, disabled_submit_wait);
    add("inline/packaged_task_direct", kNanosecond, 1, packaged_task_direct_call);
}

std::string readable(double ns) {
    if (ns < 1e3) {
        return fmt::format("{:.1f} ns", ns);
    }
    if (ns < 1e6) {
        return fmt::format("{:.2f} us", ns / 1e3);
    }
    return fmt::format("{:.2f} ms", ns / 1e6);
}

// A ratio of two medians: median(numerator) / median(denominator). Throughput ratios put the peer
// in the numerator, so that higher means concert is faster.
struct ratio {
    std::string_view label;
    std::string_view numerator;
    std::string_view denominator;
    std::optional<double> at_most;
    std::optional<double> at_least;
    // Operations per iteration of the numerator, when it times a batch and the denominator one.
    std::int64_t numerator_batch = 1;
};

constexpr ratio ratios[] = {
    {"submit+wait latency / atomic wait ping-pong",
     "latency/concert",
     "limit/atomic_wait_ping_pong",
     2.0,
     {}},
    {"same, on the default pool",
     "latency/concert_default_pool",
     "limit/atomic_wait_ping_pong",
     2.0,
     {}},
    {"nested submit+wait to another pool / from outside",
     "nested_1k/concert_other_pool",
     "latency/concert",
     3.0,
     {},
     nested_batch},
    {"nested submit+wait to the same pool / from outside",
     "nested_1k/concert_same_pool",
     "latency/concert",
     3.0,
     {},
     nested_batch},
    {"submit+wait latency / atomic spin ping-pong",
     "latency/concert",
     "limit/atomic_spin_ping_pong",
     {},
     {}},
    {"latency Asio+packaged_task / concert",
     "latency/asio_packaged_task",
     "latency/concert",
     {},
     {}},
    {"futures throughput concert / Asio+packaged_task",
     "futures_100k/asio_packaged_task",
     "futures_100k/concert",
     {},
     1.3},
    {"futures throughput concert / oneTBB+packaged_task",
     "futures_100k/tbb_enqueue_packaged_task",
     "futures_100k/concert",
     {},
     {}},
    {"fire-and-forget throughput concert / oneTBB enqueue",
     "fire_and_forget_1M/tbb_enqueue",
     "fire_and_forget_1M/concert",
     {},
     1.5},
    {"fire-and-forget throughput concert / Asio post",
     "fire_and_forget_1M/asio",
     "fire_and_forget_1M/concert",
     {},
     {}},
    {"DISABLE path / direct std::packaged_task call",
     "inline/concert_disable",
     "inline/packaged_task_direct",
     2.0,
     {}},
};

std::string verdict(double value, std::optional<double> at_most, std::optional<double> at_least) {
    if (at_most) {
        return fmt::format("(target <= {}) {}", *at_most, value <= *at_most ? "holds" : "MISSED");
    }
    if (at_least) {
        return fmt::format("(target >= {}) {}", *at_least, value >= *at_least ? "holds" : "MISSED");
    }
    return "(no target)";
}

void print_summary(const concert::bench::median_collector& results, double idle_cpu_percent) {
    fmt::print(
        "\nSummary: medians of {} repetition(s), real time; pools of {} workers, default "
        "pool of {}\n",
        results.repetitions(), workers, concert::default_pool().size());
    for (const auto& [name, m] : results.results()) {
        const double ns = m.real_ns;
        const auto tasks = tasks_per_iteration.find(name);
        if (tasks == tasks_per_iteration.end()) {
            fmt::print("  {:<42} {:>12}\n", name, readable(ns));
        } else {
            const auto per_task = ns / static_cast<double>(tasks->second);
            fmt::print("  {:<42} {:>12}  {:>9} per task  {:>6.2f} M tasks/s\n", name, readable(ns),
                       readable(per_task), 1e3 / per_task);
        }
    }
    fmt::print("\nRatios in this run:\n");
    for (const auto& r : ratios) {
        const auto numerator = results.median_ns(r.numerator);
        const auto denominator = results.median_ns(r.denominator);
        if (!numerator || !denominator) {
            fmt::print("  {:<52} not run\n", r.label);
            continue;
        }
        const double value = *numerator / static_cast<double>(r.numerator_batch) / *denominator;
        fmt::print("  {:<52} {:>6.2f}  {}\n", r.label, value,
                   verdict(value, r.at_most, r.at_least));
    }
    constexpr double idle_cpu_target = 2.0;
    fmt::print("  {:<52} {:>6.2f}% (target < {}%) {}\n", "idle CPU over one second after a burst",
               idle_cpu_percent, idle_cpu_target,
               idle_cpu_percent < idle_cpu_target ? "holds" : "MISSED");
}

}  // namespace

// Any Google Benchmark flag works (e.g. --benchmark_filter=latency). Unless given otherwise, the
// defaults suit a noisy shared machine: 5 repetitions run in random interleaved order (a burst of
// outside load then hits every peer alike rather than one), and only their aggregates shown.
int main(int argc, char** argv) {
    double idle_cpu_percent = 0;
    return concert::bench::run(
        argc, argv,
        {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
         "--benchmark_display_aggregates_only=true"},
        [&] {
            // First, while concert's pool is the only one in the process.
            idle_cpu_percent = idle_cpu_percent_after_burst();
            register_benchmarks();
        },
        [&](const concert::bench::median_collector& results) {
            print_summary(results, idle_cpu_percent);
        });
}
