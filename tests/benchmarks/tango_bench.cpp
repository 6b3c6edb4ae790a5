// Benchmarks of the Tango bridge (issue 13) against Tango's own client API, in one run, on the
// Tango project's test device server (TangoTest, started here without a database on a loopback
// port): the round trip of one command (DevDouble, which echoes its argument) through concert,
// through Tango's synchronous command_inout and through its asynchronous command_inout_asynch
// plus a blocking command_inout_reply; and 100 commands in flight through concert (and through
// command_inout_asynch, the limit) against 100 sequential synchronous calls. TangoTest runs one
// device's commands one at a time, so the same is measured with commands that take time on
// devices that run them at once: 100 Moves (5 ms each) on 100 devices of the suite's Motor server
// (tests/tango/motor). Each batch also counts the CPU time its server and this client spend per
// call, which bounds the in-flight ratio on TangoTest (print_physical_limits).
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <concert/concert.hpp>
#include <concert/tango.hpp>

#include "../tango/motor/device_server.hpp"
#include "bench_support.hpp"

namespace {

constexpr int in_flight = 100;

// The servers and the clients, made once before the benchmarks run (connecting is not measured).
struct test_session {
    concert::tango_testing::device_server server{CONCERT_TANGO_TEST_SERVER, "sys/tg_test/1"};
    Tango::DeviceProxy proxy{server.address().c_str()};
    concert::tango::device device{server.address()};
};

std::string motor_names() {
    std::string names;
    for (int i = 1; i <= in_flight; ++i) {
        names += fmt::format("{}test/motor/{}", i == 1 ? "" : ",", i);
    }
    return names;
}

struct motors_session {
    concert::tango_testing::device_server server{CONCERT_MOTOR_SERVER, motor_names()};
    std::vector<std::unique_ptr<Tango::DeviceProxy>> proxies;
    std::vector<std::unique_ptr<concert::tango::device>> devices;

    motors_session() {
        for (int i = 1; i <= in_flight; ++i) {
            const auto address = server.address(fmt::format("test/motor/{}", i));
            proxies.push_back(std::make_unique<Tango::DeviceProxy>(address.c_str()));
            devices.push_back(std::make_unique<concert::tango::device>(address));
        }
    }
};

// The clients go before the servers they talk to (reset explicitly, before Tango's own statics).
struct sessions {
    std::unique_ptr<test_session> test;
    std::unique_ptr<motors_session> motors;
};
sessions servers;

Tango::DeviceData argument(double value) {
    Tango::DeviceData data;
    data << value;
    return data;
}

double echoed(Tango::DeviceData& reply) {
    double value = 0;
    reply >> value;
    return value;
}

void round_trip_concert(benchmark::State& state) {
    auto& device = servers.test->device;
    for (auto _ : state) {
        benchmark::DoNotOptimize(device.command<double>("DevDouble", 1.0).result());
    }
}

void round_trip_command_inout(benchmark::State& state) {
    auto& proxy = servers.test->proxy;
    for (auto _ : state) {
        auto input = argument(1.0);
        auto reply = proxy.command_inout("DevDouble", input);
        benchmark::DoNotOptimize(echoed(reply));
    }
}

void round_trip_asynch_reply(benchmark::State& state) {
    auto& proxy = servers.test->proxy;
    for (auto _ : state) {
        auto input = argument(1.0);
        const long id = proxy.command_inout_asynch("DevDouble", input);
        auto reply = proxy.command_inout_reply(id, 0);  // 0: block until the reply
        benchmark::DoNotOptimize(echoed(reply));
    }
}

// CPU time (user and system, every thread) of process `pid` so far, in ns; NaN if unreadable.
double cpu_ns(pid_t pid) {
    clockid_t clock{};
    timespec time{};
    if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &time) != 0) {
        return std::nan("");
    }
    return static_cast<double>(time.tv_sec) * 1e9 + static_cast<double>(time.tv_nsec);
}

// Counts the CPU time a server and this client spend over a benchmark's loop, per call, into the
// benchmark's counters "server_cpu_ns_per_call" and "client_cpu_ns_per_call".
class cpu_meter {
  public:
    explicit cpu_meter(pid_t server)
        : server_(server), server_start_(cpu_ns(server)), client_start_(cpu_ns(::getpid())) {}

    void count(benchmark::State& state, int calls_per_iteration) const {
        const auto calls = static_cast<double>(state.iterations()) * calls_per_iteration;
        state.counters["server_cpu_ns_per_call"] = (cpu_ns(server_) - server_start_) / calls;
        state.counters["client_cpu_ns_per_call"] = (cpu_ns(::getpid()) - client_start_) / calls;
    }

  private:
    pid_t server_;
    double server_start_;
    double client_start_;
};

// Where a batch of calls goes: call i to device i % size, reached through concert and through a
// raw Tango proxy (made once, with the sessions), on the server of process `server`.
struct batch_target {
    const char* command = nullptr;
    pid_t server = 0;
    std::vector<concert::tango::device*> devices;
    std::vector<Tango::DeviceProxy*> proxies;
};
batch_target test_batch;    // DevDouble, all on TangoTest's one device
batch_target motors_batch;  // Move, one per motor

void in_flight_concert(benchmark::State& state, const batch_target& target) {
    std::vector<concert::future<double>> calls;
    calls.reserve(in_flight);
    const cpu_meter meter(target.server);
    for (auto _ : state) {
        calls.clear();
        for (int i = 0; i < in_flight; ++i) {
            auto& device = *target.devices[i % target.devices.size()];
            calls.push_back(device.command<double>(target.command, static_cast<double>(i)));
        }
        concert::wait(calls);
    }
    meter.count(state, in_flight);
    state.SetItemsProcessed(state.iterations() * in_flight);
}

void in_flight_asynch_reply(benchmark::State& state, const batch_target& target) {
    std::vector<long> ids(in_flight);
    const cpu_meter meter(target.server);
    for (auto _ : state) {
        for (int i = 0; i < in_flight; ++i) {
            auto input = argument(i);
            ids[i] = target.proxies[i % target.proxies.size()]->command_inout_asynch(target.command,
                                                                                     input);
        }
        for (int i = 0; i < in_flight; ++i) {
            auto reply = target.proxies[i % target.proxies.size()]->command_inout_reply(ids[i], 0);
            benchmark::DoNotOptimize(echoed(reply));
        }
    }
    meter.count(state, in_flight);
    state.SetItemsProcessed(state.iterations() * in_flight);
}

void sequential_command_inout(benchmark::State& state, const batch_target& target) {
    const cpu_meter meter(target.server);
    for (auto _ : state) {
        for (int i = 0; i < in_flight; ++i) {
            auto input = argument(i);
            auto reply =
                target.proxies[i % target.proxies.size()]->command_inout(target.command, input);
            benchmark::DoNotOptimize(echoed(reply));
        }
    }
    meter.count(state, in_flight);
    state.SetItemsProcessed(state.iterations() * in_flight);
}

std::string load_average() {
    std::ifstream file("/proc/loadavg");
    std::string one, five, fifteen;
    file >> one >> five >> fifteen;
    return fmt::format("{} {} {}", one, five, fifteen);
}

// How much faster than sequential 100 calls in flight to TangoTest can be on this machine. The
// server and its client share its cores, and TangoTest's device runs one call at a time, so 100
// calls take at least their CPU time spread over every core: the server's and raw Tango's
// asynchronous client's (the limit of any client of Tango's asynchronous API), or the server's
// alone (the limit of a client that would cost nothing).
void print_physical_limits(const concert::bench::median_collector& results,
                           std::optional<double> sequential_batch) {
    const auto cpu_us = [&](std::string_view name, std::string_view side) {
        return results.counter(name, fmt::format("{}_cpu_ns_per_call", side)).value_or(NAN) / 1e3;
    };
    const auto* asynch = "100_in_flight/command_inout_asynch+reply";
    fmt::print(
        "  CPU per call, us (server / client): raw asynch {:.1f} / {:.1f}, concert {:.1f} / "
        "{:.1f}, sequential {:.1f} / {:.1f}\n",
        cpu_us(asynch, "server"), cpu_us(asynch, "client"),
        cpu_us("100_in_flight/concert", "server"), cpu_us("100_in_flight/concert", "client"),
        cpu_us("100_sequential/command_inout", "server"),
        cpu_us("100_sequential/command_inout", "client"));
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    const auto limit = [&](std::string_view label, std::string_view kind, double cpu_us_per_call) {
        if (!sequential_batch || std::isnan(cpu_us_per_call)) {
            fmt::print("  {:<68} not run\n", label);
            return;
        }
        const double ratio = *sequential_batch / (in_flight * cpu_us_per_call * 1e3 / cores);
        fmt::print("  {:<68} {:>6.2f}  ({}{})\n", label, ratio, kind,
                   ratio < 5 ? ", below the target" : "");
    };
    limit(fmt::format("100 sequential / CPU of server+asynch client over {} cores", cores),
          "the limit of Tango's asynchronous API",
          cpu_us(asynch, "server") + cpu_us(asynch, "client"));
    limit(fmt::format("100 sequential / CPU of the server alone over {} cores", cores),
          "the limit of a client costing nothing", cpu_us(asynch, "server"));
}

void print_summary(const concert::bench::median_collector& results,
                   const std::string& load_before) {
    const auto time = [&](std::string_view name) { return results.median_ns(name); };
    const auto report = [](std::string_view label, std::optional<double> numerator,
                           std::optional<double> denominator, std::string_view target,
                           std::optional<bool> holds) {
        if (!numerator || !denominator) {
            fmt::print("  {:<68} not run\n", label);
            return;
        }
        fmt::print("  {:<68} {:>6.2f}  {}{}\n", label, *numerator / *denominator, target,
                   holds ? (*holds ? "  holds" : "  MISSED") : "");
    };
    const auto ratio_at_most = [](std::optional<double> n, std::optional<double> d, double limit) {
        return n && d ? std::optional(*n / *d <= limit) : std::nullopt;
    };
    const auto ratio_at_least = [](std::optional<double> n, std::optional<double> d, double limit) {
        return n && d ? std::optional(*n / *d >= limit) : std::nullopt;
    };
    const auto concert_trip = time("round_trip/concert");
    const auto asynch_trip = time("round_trip/command_inout_asynch+reply");
    const auto sync_trip = time("round_trip/command_inout");
    const auto concert_batch = time("100_in_flight/concert");
    const auto asynch_batch = time("100_in_flight/command_inout_asynch+reply");
    const auto sequential_batch = time("100_sequential/command_inout");
    fmt::print(
        "\nRatios in this run (medians of {} repetitions; load average {} before, {} after):\n",
        results.repetitions(), load_before, load_average());
    report("round trip, concert / command_inout_asynch+reply", concert_trip, asynch_trip,
           "target <= 1.2", ratio_at_most(concert_trip, asynch_trip, 1.2));
    report("round trip, concert / synchronous command_inout", concert_trip, sync_trip, "", {});
    report("round trip, command_inout_asynch+reply / command_inout", asynch_trip, sync_trip, "",
           {});
    report("100 sequential command_inout / 100 in flight through concert", sequential_batch,
           concert_batch, "target >= 5", ratio_at_least(sequential_batch, concert_batch, 5));
    report("100 sequential command_inout / 100 in flight, raw asynch", sequential_batch,
           asynch_batch, "(the limit)", {});
    report("100 in flight, concert / raw asynch", concert_batch, asynch_batch, "", {});
    print_physical_limits(results, sequential_batch);
    const auto concert_moves = time("100_moves_in_flight/concert");
    const auto asynch_moves = time("100_moves_in_flight/command_inout_asynch+reply");
    const auto sequential_moves = time("100_moves_sequential/command_inout");
    report("100 sequential Moves / 100 in flight through concert (100 motors)", sequential_moves,
           concert_moves, "target >= 5", ratio_at_least(sequential_moves, concert_moves, 5));
    report("100 sequential Moves / 100 in flight, raw asynch", sequential_moves, asynch_moves,
           "(the limit)", {});
    report("100 Moves in flight, concert / raw asynch", concert_moves, asynch_moves, "", {});
}

}  // namespace

// Starts the servers and connects; a failure ends the program with its reason.
void connect() {
    try {
        servers.test = std::make_unique<test_session>();
        servers.motors = std::make_unique<motors_session>();
        test_batch = {"DevDouble",
                      servers.test->server.pid(),
                      {&servers.test->device},
                      {&servers.test->proxy}};
        motors_batch.command = "Move";
        motors_batch.server = servers.motors->server.pid();
        for (int i = 0; i < in_flight; ++i) {
            motors_batch.devices.push_back(servers.motors->devices[i].get());
            motors_batch.proxies.push_back(servers.motors->proxies[i].get());
        }
    } catch (const Tango::DevFailed& failure) {
        fmt::print(stderr, "tango_bench: {}: {}\n", failure.errors[0].reason.in(),
                   failure.errors[0].desc.in());
        std::exit(1);
    } catch (const std::exception& failure) {
        fmt::print(stderr, "tango_bench: {}\n", failure.what());
        std::exit(1);
    }
}

int main(int argc, char** argv) {
    const std::string load_before = load_average();
    const int status = concert::bench::run(
        argc, argv,
        {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
         "--benchmark_display_aggregates_only=true"},
        [] {
            connect();
            const auto add = [](const char* name, auto body) {
                benchmark::RegisterBenchmark(name, body)
                    ->UseRealTime()
                    ->Unit(benchmark::kMicrosecond);
            };
            add("round_trip/concert", &round_trip_concert);
            add("round_trip/command_inout", &round_trip_command_inout);
            add("round_trip/command_inout_asynch+reply", &round_trip_asynch_reply);
            for (const auto& [prefix, target] :
                 {std::pair{"100_", &test_batch}, std::pair{"100_moves_", &motors_batch}}) {
                const std::string name(prefix);
                add((name + "in_flight/concert").c_str(),
                    [target](benchmark::State& state) { in_flight_concert(state, *target); });
                add((name + "in_flight/command_inout_asynch+reply").c_str(),
                    [target](benchmark::State& state) { in_flight_asynch_reply(state, *target); });
                add((name + "sequential/command_inout").c_str(), [target](benchmark::State& state) {
                    sequential_command_inout(state, *target);
                });
            }
        },
        [&load_before](const concert::bench::median_collector& results) {
            print_summary(results, load_before);
        });
    servers.motors.reset();
    servers.test.reset();
    return status;
}
