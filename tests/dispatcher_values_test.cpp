// Messages with values: send(sender, message, value) queues a copy of the value, handlers that
// declare a value parameter receive it, the others still receive the message, and a handler whose
// value type does not match is reported and skipped; on the delivery thread, under DISABLE and
// after shutdown alike.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <array>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <concert/concert.hpp>

#include "dispatcher_support.hpp"

namespace {

struct motor {
    double position = 0;
    void on_position(const double& p) { position = p; }
};

using concert::testing::recorded_errors;

// Each test runs on the delivery thread, inline under DISABLE and inline after shutdown.
enum class path { delivery_thread, disabled, after_shutdown };

class DispatcherValues : public testing::TestWithParam<path> {
  protected:
    void SetUp() override {
        previous_disable_ = concert::DISABLE.exchange(GetParam() == path::disabled);
        if (GetParam() == path::after_shutdown) {
            dispatcher.shutdown();
        }
    }
    void TearDown() override {
        dispatcher.flush();
        concert::DISABLE = previous_disable_;
    }

    concert::Dispatcher dispatcher;

  private:
    bool previous_disable_ = false;
};

INSTANTIATE_TEST_SUITE_P(EveryPath, DispatcherValues,
                         testing::Values(path::delivery_thread, path::disabled,
                                         path::after_shutdown),
                         [](const auto& info) {
                             switch (info.param) {
                                 case path::delivery_thread:
                                     return "DeliveryThread";
                                 case path::disabled:
                                     return "Disabled";
                                 case path::after_shutdown:
                                     return "AfterShutdown";
                             }
                             return "";
                         });

TEST_P(DispatcherValues, HandlersDeclaringTheValueReceiveIt) {
    motor m;
    std::vector<std::string> seen;
    dispatcher.subscribe(&m, "position",
                         [&](motor*, const double& v) { seen.push_back(fmt::format("{}", v)); });
    dispatcher.subscribe(&m, "position", [&](motor*, std::string_view message, const double& v) {
        seen.push_back(fmt::format("{} {}", message, v));
    });
    dispatcher.subscribe(static_cast<const void*>(&m), "position", [&](const void*, double v) {
        seen.push_back(fmt::format("void* {}", v));
    });
    dispatcher.subscribe(concert::any_sender, "position", [&](const void* s, const double& v) {
        seen.push_back(fmt::format("any sender {} {}", s == &m, v));
    });
    dispatcher.subscribe(&m, concert::any_message,
                         [&](motor*, std::string_view message, const double& v) {
                             seen.push_back(fmt::format("any message {} {}", message, v));
                         });
    dispatcher.subscribe(&m, "position", &motor::on_position);
    dispatcher.send(&m, "position", 3.5);
    dispatcher.flush();
    EXPECT_EQ(seen, (std::vector<std::string>{"3.5", "position 3.5", "void* 3.5",
                                              "any sender true 3.5", "any message position 3.5"}));
    EXPECT_EQ(m.position, 3.5);
}

TEST_P(DispatcherValues, HandlersTakingNoValueStillReceiveTheMessage) {
    motor m;
    std::vector<std::string> seen;
    dispatcher.subscribe(&m, "position", [&](motor*) { seen.emplace_back("sender only"); });
    dispatcher.subscribe(&m, concert::any_message,
                         [&](motor*, std::string_view message) { seen.emplace_back(message); });
    dispatcher.send(&m, "position", 3.5);
    dispatcher.flush();
    EXPECT_EQ(seen, (std::vector<std::string>{"sender only", "position"}));
}

TEST_P(DispatcherValues, AMismatchedValueTypeIsReportedNamingBothTypesAndDeliveryGoesOn) {
    recorded_errors errors;
    motor m;
    std::vector<std::string> seen;
    dispatcher.subscribe(&m, "position", [&](motor*, const int&) { seen.emplace_back("int"); });
    dispatcher.subscribe(&m, "position",
                         [&](motor*, const double& v) { seen.push_back(fmt::format("{}", v)); });
    dispatcher.subscribe(&m, "stopped", [&](motor*) { seen.emplace_back("stopped"); });
    dispatcher.send(&m, "position", 3.5);
    dispatcher.send(&m, "stopped");
    dispatcher.flush();
    EXPECT_EQ(seen, (std::vector<std::string>{"3.5", "stopped"}));
    const auto entries = errors.entries();
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_NE(entries[0].find("mismatch in the handler of message \"position\""), std::string::npos)
        << entries[0];
    EXPECT_NE(entries[0].find("takes a value of type int, but the message carries a double"),
              std::string::npos)
        << entries[0];
}

TEST_P(DispatcherValues, AHandlerWantingAValueOfAMessageSentWithoutOneIsReported) {
    recorded_errors errors;
    motor m;
    int delivered = 0;
    dispatcher.subscribe(&m, "position", [&](motor*, const std::string&) { ++delivered; });
    dispatcher.subscribe(&m, "position", [&](motor*) { ++delivered; });
    dispatcher.send(&m, "position");
    dispatcher.flush();
    EXPECT_EQ(delivered, 1);
    const auto entries = errors.entries();
    ASSERT_EQ(entries.size(), 1U);
    // Demangled where the ABI can: the standard library's own spelling of std::string.
    EXPECT_NE(entries[0].find("takes a value of type std::"), std::string::npos) << entries[0];
    EXPECT_NE(entries[0].find("string"), std::string::npos) << entries[0];
    EXPECT_NE(entries[0].find("sent without a value"), std::string::npos) << entries[0];
}

// Counts the live instances, so that every queued copy is seen freed.
struct tracked {
    static inline std::atomic<int> live{0};
    std::vector<int> samples;
    explicit tracked(std::vector<int> s) : samples(std::move(s)) { ++live; }
    tracked(const tracked& other) : samples(other.samples) { ++live; }
    tracked& operator=(const tracked&) = delete;
    ~tracked() { --live; }
};

TEST_P(DispatcherValues, LargeAndNonTrivialValuesAreDeliveredAndFreed) {
    motor m;
    std::vector<std::string> seen;
    dispatcher.subscribe(&m, "frame", [&](motor*, const tracked& t) {
        seen.push_back(fmt::format("{}", t.samples.size()));
    });
    dispatcher.subscribe(&m, "name", [&](motor*, const std::string& s) { seen.push_back(s); });
    dispatcher.subscribe(&m, "big", [&](motor*, const std::array<double, 8>& a) {
        seen.push_back(fmt::format("{}", a[7]));
    });
    {
        tracked frame(std::vector<int>(1000, 7));
        dispatcher.send(&m, "frame", frame);
        dispatcher.send(&m, "unheard", frame);  // no handler: freed all the same
        frame.samples.clear();                  // the queued copy is the dispatcher's own
    }
    std::string name = "x-stage";
    dispatcher.send(&m, "name", name);
    name = "changed";
    dispatcher.send(&m, "big", std::array<double, 8>{0, 0, 0, 0, 0, 0, 0, 2.5});
    dispatcher.flush();
    EXPECT_EQ(seen, (std::vector<std::string>{"1000", "x-stage", "2.5"}));
    EXPECT_EQ(tracked::live, 0);
}

struct pair_of_doubles {
    double x;
    double y;
};

TEST_P(DispatcherValues, SmallTriviallyCopyableValuesAreStoredInPlace) {
    // No allocation for them: the queue holds them in its entries.
    static_assert(concert::detail::in_place<double>);
    static_assert(concert::detail::in_place<int>);
    static_assert(concert::detail::in_place<pair_of_doubles>);
    static_assert(!concert::detail::in_place<std::string>);
    static_assert(!concert::detail::in_place<std::array<double, 3>>);
    motor m;
    double sum = 0;
    dispatcher.subscribe(&m, "xy", [&](motor*, const pair_of_doubles& p) { sum = p.x + p.y; });
    dispatcher.send(&m, "xy", pair_of_doubles{1.25, 2});
    dispatcher.flush();
    EXPECT_EQ(sum, 3.25);
}

struct three_bytes {
    std::array<char, 3> c;
};
struct three_ints {
    std::array<int, 3> i;
};

TEST_P(DispatcherValues, InPlaceValuesOfEverySizeArriveIntact) {
    static_assert(concert::detail::in_place<three_bytes> && concert::detail::in_place<three_ints>);
    motor m;
    std::vector<std::string> seen;
    dispatcher.subscribe(&m, "c",
                         [&](motor*, const char& v) { seen.push_back(fmt::format("{}", v)); });
    dispatcher.subscribe(&m, "s",
                         [&](motor*, const short& v) { seen.push_back(fmt::format("{}", v)); });
    dispatcher.subscribe(&m, "3", [&](motor*, const three_bytes& v) {
        seen.push_back(fmt::format("{}{}{}", v.c[0], v.c[1], v.c[2]));
    });
    dispatcher.subscribe(&m, "f",
                         [&](motor*, const float& v) { seen.push_back(fmt::format("{}", v)); });
    dispatcher.subscribe(&m, "12", [&](motor*, const three_ints& v) {
        seen.push_back(fmt::format("{} {} {}", v.i[0], v.i[1], v.i[2]));
    });
    dispatcher.subscribe(&m, "xy", [&](motor*, const pair_of_doubles& v) {
        seen.push_back(fmt::format("{} {}", v.x, v.y));
    });
    dispatcher.send(&m, "c", 'z');
    dispatcher.send(&m, "s", static_cast<short>(-12345));
    dispatcher.send(&m, "3", three_bytes{{'a', 'b', 'c'}});
    dispatcher.send(&m, "f", 0.25F);
    dispatcher.send(&m, "12", three_ints{{-1, 2, -3}});
    dispatcher.send(&m, "xy", pair_of_doubles{-0.5, 1e300});
    dispatcher.flush();
    EXPECT_EQ(seen,
              (std::vector<std::string>{"z", "-12345", "abc", "0.25", "-1 2 -3", "-0.5 1e+300"}));
}

struct throws_on_copy {
    throws_on_copy() = default;
    throws_on_copy(const throws_on_copy&) { throw std::runtime_error("copy failed"); }
    throws_on_copy& operator=(const throws_on_copy&) = delete;
};

TEST_P(DispatcherValues, AValueWhoseCopyThrowsIsNotSentAndTheExceptionReachesTheSender) {
    motor m;
    int calls = 0;
    dispatcher.subscribe(&m, "m", [&](motor*, const throws_on_copy&) { ++calls; });
    const throws_on_copy value;
    EXPECT_THROW(dispatcher.send(&m, "m", value), std::runtime_error);
    dispatcher.flush();
    EXPECT_EQ(calls, 0);
}

TEST_P(DispatcherValues, AStringLiteralArrivesAsAPointerToItsCharacters) {
    motor m;
    std::string seen;
    dispatcher.subscribe(&m, "label", [&](motor*, const char* const& text) { seen = text; });
    dispatcher.send(&m, "label", "x-stage");
    dispatcher.flush();
    EXPECT_EQ(seen, "x-stage");
}

TEST_P(DispatcherValues, ValuesKeepSendOrderAcrossSenders) {
    motor a;
    motor b;
    std::vector<int> seen;
    const auto record = [&](motor*, const int& v) { seen.push_back(v); };
    dispatcher.subscribe(&a, "n", record);
    dispatcher.subscribe(&b, "n", record);
    for (int i = 0; i < 100; ++i) {
        dispatcher.send(i % 2 == 0 ? &a : &b, "n", i);
    }
    dispatcher.flush();
    ASSERT_EQ(seen.size(), 100U);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
    }
}

TEST(DispatcherValuesAtDestruction, QueuedValuesAreDeliveredOrFreedByTheDestructor) {
    std::atomic<int> delivered{0};
    {
        concert::Dispatcher dispatcher;
        motor m;
        dispatcher.subscribe(&m, "frame", [&](motor*, const tracked&) { ++delivered; });
        for (int i = 0; i < 100; ++i) {
            dispatcher.send(&m, "frame", tracked(std::vector<int>(10, i)));
        }
    }
    EXPECT_EQ(delivered, 100);
    EXPECT_EQ(tracked::live, 0);
}

}  // namespace
