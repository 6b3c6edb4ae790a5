// Task origins: every future records where it was submitted (and its wrapper's name), and the
// error handler's reports name it.
#include <gtest/gtest.h>

#include <concert/concert.hpp>

#include <future>
#include <stdexcept>
#include <string>
#include <string_view>

#include "support.hpp"

namespace {

using concert::testing::gate;
using concert::testing::reported_errors;

struct motor_fault : std::runtime_error {
    motor_fault() : std::runtime_error("motor fault") {}
};

// The line after the one this is called on: where the statement under test starts.
std::uint_least32_t next_line(concert::source_location here = concert::source_location::current()) {
    return here.line() + 1;
}

bool in_this_file(const concert::task_origin& origin) {
    return std::string_view(origin.where.file_name()).ends_with("origin_test.cpp");
}

TEST(Origin, EverySubmitRecordsItsCallersLineAndFile) {
    concert::thread_pool pool{2};
    const auto sum6 = [](int a, int b, int c, int d, int e, int f) {
        return a + b + c + d + e + f;
    };
    std::vector<std::pair<concert::future<int>, std::uint_least32_t>> made;
    auto line = next_line();
    made.emplace_back(concert::submit([] { return 1; }), line);
    line = next_line();
    made.emplace_back(concert::submit(concert::priority::high, [] { return 2; }), line);
    line = next_line();
    made.emplace_back(pool.submit([](int a, int b) { return a + b; }, 1, 2), line);
    line = next_line();
    made.emplace_back(pool.submit(concert::priority::low, sum6, 1, 2, 3, 4, 5, 6), line);
    line = next_line();
    made.emplace_back(concert::inline_executor::submit([](int a) { return a; }, 7), line);
    for (const auto& [f, submitted_on] : made) {
        EXPECT_EQ(f.origin().where.line(), submitted_on);
        EXPECT_TRUE(in_this_file(f.origin())) << f.origin().where.file_name();
        EXPECT_TRUE(f.origin().name.empty());
    }
    EXPECT_EQ(made[3].first.result(), 21);
}

TEST(Origin, ANamedWrapperGivesItsNameAndTheCallsLocation) {
    auto move = [] {
        // The name is copied: the string it came from may go.
        const std::string name = std::string("move ") + "x";
        return concert::async(name, [](double target) { return target; });
    }();
    const auto line = next_line();
    const auto moved = move(3.5);
    EXPECT_EQ(moved.origin().name, "move x");
    EXPECT_EQ(moved.origin().where.line(), line);
    EXPECT_EQ(move.name(), "move x");
    EXPECT_EQ(moved.result(), 3.5);
    concert::thread_pool pool{1};
    const auto on_pool = concert::async(pool, "home", [] { return 0; })();
    EXPECT_EQ(on_pool.origin().name, "home");
    EXPECT_TRUE(concert::async([] {})().origin().name.empty());
}

TEST(Origin, ContinuationsPromisesAndAdoptedFuturesRecordWhereTheyWereMade) {
    const auto line = next_line();
    const auto continued = concert::submit([] { return 1; }).then([](int x) { return x + 1; });
    concert::promise<int> p;
    std::promise<int> standard;
    const concert::future<int> adopted = standard.get_future();
    const std::vector<concert::future<int>> inputs{continued};
    const auto all = concert::when_all(inputs);
    EXPECT_EQ(continued.origin().where.line(), line);
    EXPECT_EQ(p.get_future().origin().where.line(), line + 1);
    EXPECT_EQ(adopted.origin().where.line(), line + 3);
    EXPECT_EQ(all.origin().where.line(), line + 5);
    EXPECT_EQ(all.origin().name, "concert::when_all");
    EXPECT_EQ(concert::when_any(continued).origin().name, "concert::when_any");
    standard.set_value(0);
    p.set_value(0);
    all.wait();
}

TEST(Origin, ASourceLocationKnowsItsFileLineAndFunction) {
    const auto line = next_line();
    const auto here = concert::source_location::current();
    EXPECT_EQ(here.line(), line);
    EXPECT_TRUE(std::string_view(here.file_name()).ends_with("origin_test.cpp"));
    EXPECT_NE(std::string_view(here.function_name()).find("TestBody"), std::string_view::npos)
        << here.function_name();
    const concert::source_location unknown;
    EXPECT_EQ(unknown.line(), 0u);
    EXPECT_STREQ(unknown.file_name(), "");
#if defined(__cpp_lib_source_location)
    const concert::source_location standard = std::source_location::current();
    EXPECT_EQ(standard.line(), line + 9);
#endif
}

TEST(Origin, AFutureWithNoStateHasNone) {
    const concert::future<int> empty;
    EXPECT_THROW(static_cast<void>(empty.origin()), concert::invalid_future);
}

TEST(Origin, ReadsAsNameAndPlace) {
    const auto here = concert::source_location::current();
    const std::string place = "origin_test.cpp:" + std::to_string(here.line());
    EXPECT_EQ(concert::to_string({"move x", here}), "move x (" + place + ")");
    EXPECT_EQ(concert::to_string({{}, here}), place);
    EXPECT_EQ(concert::to_string({"move x", {}}), "move x");
    EXPECT_EQ(concert::to_string({}), "");
}

TEST(Origin, TheReportOfAnUnreadFailureNamesTheWrapperAndTheCall) {
    reported_errors errors;
    std::uint_least32_t line = 0;
    {
        gate g;
        concert::thread_pool pool{1};
        auto move = concert::async(pool, "move x", [&g] {
            if (!concert::async_disabled()) {
                g.wait();
            }
            throw motor_fault();
        });
        line = next_line();
        static_cast<void>(move());  // dropped before the task fails
        g.open();
        pool.wait_idle();
    }
    const auto reported = errors.errors();
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_EQ(reported[0].first, "motor fault");
    EXPECT_EQ(reported[0].second, "move x (origin_test.cpp:" + std::to_string(line) +
                                      "), a task whose future was dropped without its failure "
                                      "being read");
}

TEST(Origin, TheReportOfAnUnnamedUnreadFailureOrAFailedPostNamesTheCall) {
    reported_errors errors;
    concert::thread_pool pool{1};
    const auto line = next_line();
    static_cast<void>(pool.submit([] { throw motor_fault(); }));
    pool.post([] { throw motor_fault(); });
    pool.wait_idle();
    const auto reported = errors.errors();
    ASSERT_EQ(reported.size(), 2u);
    const std::string file = "origin_test.cpp:";
    EXPECT_EQ(reported[0].second, "the task submitted at " + file + std::to_string(line) +
                                      ", whose future was dropped without its failure being read");
    EXPECT_EQ(reported[1].second,
              "a fire-and-forget task posted at " + file + std::to_string(line + 1));
}

}  // namespace
