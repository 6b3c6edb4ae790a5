// What the benchmark programs share: a console reporter that also keeps every benchmark's median
// (or its only run), and a main body that adds default flags unless the command line sets them.
#pragma once

#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concert::bench {

struct median {
    double real_ns = 0;
    std::map<std::string, double, std::less<>> counters;  // the run's own, by name
};

class median_collector : public benchmark::ConsoleReporter {
  public:
    using ConsoleReporter::ConsoleReporter;

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& run : runs) {
            const bool is_median =
                run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            const bool only_run = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
            if (run.error_occurred || !(is_median || only_run)) {
                continue;
            }
            median m;
            m.real_ns =
                run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
            for (const auto& [counter, value] : run.counters) {
                m.counters.emplace(counter, value.value);
            }
            const auto& name = run.run_name;
            results_.emplace_back(name.function_name + (name.args.empty() ? "" : "/") + name.args,
                                  m);
            repetitions_ = run.repetitions;
        }
        ConsoleReporter::ReportRuns(runs);
    }

    // By name: the registered name, then "/" and the arguments if any ("throughput/concert/1").
    std::optional<median> find(std::string_view name) const {
        for (const auto& [benchmark, m] : results_) {
            if (benchmark == name) {
                return m;
            }
        }
        return std::nullopt;
    }

    std::optional<double> median_ns(std::string_view name) const {
        const auto m = find(name);
        return m ? std::optional(m->real_ns) : std::nullopt;
    }

    // A counter of benchmark `name` ("items_per_second", or one of its own).
    std::optional<double> counter(std::string_view name, std::string_view counter_name) const {
        const auto m = find(name);
        if (!m) {
            return std::nullopt;
        }
        const auto value = m->counters.find(counter_name);
        return value != m->counters.end() ? std::optional(value->second) : std::nullopt;
    }

    std::optional<double> items_per_second(std::string_view name) const {
        return counter(name, "items_per_second");
    }

    // In the order the benchmarks finished.
    const std::vector<std::pair<std::string, median>>& results() const { return results_; }
    std::int64_t repetitions() const { return repetitions_; }

  private:
    std::vector<std::pair<std::string, median>> results_;
    std::int64_t repetitions_ = 1;
};

// Runs the registered benchmarks, with each of `defaults` ("--flag=value") added unless the
// command line names that flag, then calls summary(collector). `before` runs after the flags are
// parsed and before any benchmark; it registers them (or measures what must come first).
template <class Before, class Summary>
int run(int argc, char** argv, std::initializer_list<std::string_view> defaults, Before before,
        Summary summary) {
    std::vector<std::string> owned(argv, argv + argc);
    for (const auto flag : defaults) {
        const auto name = flag.substr(0, flag.find('='));
        bool given = false;
        for (const auto& arg : owned) {
            given = given || std::string_view(arg).starts_with(name);
        }
        if (!given) {
            owned.emplace_back(flag);
        }
    }
    std::vector<char*> args;
    for (auto& arg : owned) {
        args.push_back(arg.data());
    }
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) {
        return 1;
    }
    before();
    median_collector collector(isatty(STDOUT_FILENO) != 0 ? benchmark::ConsoleReporter::OO_Color
                                                          : benchmark::ConsoleReporter::OO_None);
    benchmark::RunSpecifiedBenchmarks(&collector);
    summary(collector);
    benchmark::Shutdown();
    return 0;
}

}  // namespace concert::bench
