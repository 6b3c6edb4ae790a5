// concert::Dispatcher on one thread at a time: subscribing, delivery order, wildcards, flush, wait,
// errors, unsubscribing, shutdown.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <concert/concert.hpp>

#include "dispatcher_support.hpp"

namespace {

struct device {
    std::string name;
};

using concert::testing::recorded_errors;

TEST(Dispatcher, SeedExamplePrintsTheHandlersLineOnce) {
    concert::Dispatcher dispatcher;
    const auto handle_message = [](const void* sender) {
        fmt::print("{} send me a message\n", fmt::ptr(sender));
    };
    const int obj = 0;
    testing::internal::CaptureStdout();
    dispatcher.subscribe(&obj, "foo", handle_message);
    dispatcher.send(&obj, "foo");
    dispatcher.flush();
    EXPECT_EQ(testing::internal::GetCapturedStdout(),
              fmt::format("{} send me a message\n", fmt::ptr(&obj)));
}

TEST(Dispatcher, HandlersRunOnTheDeliveryThreadOrInlineWhenDisabled) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::thread::id handler_thread;
    dispatcher.subscribe(&sender, "ping",
                         [&](const int*) { handler_thread = std::this_thread::get_id(); });
    dispatcher.send(&sender, "ping");
    dispatcher.flush();
    EXPECT_EQ(handler_thread == std::this_thread::get_id(), concert::async_disabled());
}

TEST(Dispatcher, MessagesAreDeliveredInSendOrder) {
    concert::Dispatcher dispatcher;
    const int a = 0;
    const int b = 0;
    std::vector<std::string> seen;
    const auto record = [&](const void* sender, std::string_view message) {
        seen.push_back(fmt::format("{}{}", sender == &a ? "a:" : "b:", message));
    };
    for (const char* message : {"one", "two", "three"}) {
        dispatcher.subscribe(&a, message, record);
        dispatcher.subscribe(&b, message, record);
    }
    dispatcher.send(&a, "one");
    dispatcher.send(&b, "two");
    dispatcher.send(&a, "three");
    dispatcher.send(&b, "one");
    dispatcher.flush();
    EXPECT_EQ(seen, (std::vector<std::string>{"a:one", "b:two", "a:three", "b:one"}));
}

TEST(Dispatcher, OnlyTheSubscribedSenderAndMessageReachAHandler) {
    concert::Dispatcher dispatcher;
    const int motor = 0;
    const int camera = 0;
    int calls = 0;
    dispatcher.subscribe(&motor, "stopped", [&](const int*) { ++calls; });
    dispatcher.send(&camera, "stopped");
    dispatcher.send(&motor, "moving");
    dispatcher.send(&motor, "stopped");
    dispatcher.flush();
    EXPECT_EQ(calls, 1);
}

TEST(Dispatcher, TypedHandlerReceivesTheSenderAsItsType) {
    concert::Dispatcher dispatcher;
    device motor{"x-stage"};
    std::string name;
    dispatcher.subscribe(&motor, "stopped", [&](device* d) { name = d->name; });
    dispatcher.send(&motor, "stopped");
    dispatcher.flush();
    EXPECT_EQ(name, "x-stage");
}

TEST(Dispatcher, KeepsItsOwnCopyOfTheMessage) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    int calls = 0;
    std::string message = "frame";
    dispatcher.subscribe(&sender, message, [&](const int*) { ++calls; });
    message = "XXXXX";
    std::string sent = "frame";
    dispatcher.send(&sender, sent);
    sent = "YYYYY";
    dispatcher.flush();
    EXPECT_EQ(calls, 1);
}

// Names of every length up to 40 characters, each beside names of the same length that differ
// only in their first, middle or last character: a stream of them, one sender, reaches exactly the
// handlers of each name, with its text intact.
TEST(Dispatcher, NamesOfEveryLengthDifferingInOneCharacterReachOnlyTheirOwnHandlers) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::vector<std::string> names{""};
    for (std::size_t length = 1; length <= 40; ++length) {
        std::string name;
        for (std::size_t i = 0; i < length; ++i) {
            name += static_cast<char>('a' + i % 26);
        }
        names.push_back(name);
        for (const std::size_t changed : {std::size_t{0}, length / 2, length - 1}) {
            std::string variant = name;
            variant[changed] = '#';
            if (std::find(names.begin(), names.end(), variant) == names.end()) {
                names.push_back(variant);
            }
        }
    }
    std::vector<std::vector<std::string>> received(names.size());
    std::vector<std::string> every;
    for (std::size_t i = 0; i < names.size(); ++i) {
        dispatcher.subscribe(&sender, names[i], [&, i](const int*, std::string_view m) {
            received[i].emplace_back(m);
        });
    }
    dispatcher.subscribe(&sender, concert::any_message,
                         [&](const int*, std::string_view m) { every.emplace_back(m); });
    std::vector<std::string> sent;
    for (int round = 0; round < 2; ++round) {
        for (const auto& name : names) {
            for (int repeat = 0; repeat <= round; ++repeat) {  // runs of one name, and single ones
                dispatcher.send(&sender, name);
                sent.push_back(name);
            }
        }
    }
    dispatcher.flush();
    EXPECT_EQ(every, sent);
    for (std::size_t i = 0; i < names.size(); ++i) {
        EXPECT_EQ(received[i], std::vector<std::string>(3, names[i])) << "\"" << names[i] << "\"";
    }
}

TEST(Dispatcher, AnySenderSubscriptionReceivesTheMessageFromEverySender) {
    concert::Dispatcher dispatcher;
    const int first = 0;
    const int second = 0;
    std::vector<const void*> senders;
    dispatcher.subscribe(concert::any_sender, "frame",
                         [&](const void* s) { senders.push_back(s); });
    dispatcher.send(&first, "frame");
    dispatcher.send(&second, "other");
    dispatcher.send(&second, "frame");
    dispatcher.flush();
    EXPECT_EQ(senders, (std::vector<const void*>{&first, &second}));
}

TEST(Dispatcher, AnyMessageSubscriptionReceivesEveryMessageOfItsSender) {
    concert::Dispatcher dispatcher;
    device camera{"camera"};
    const int other = 0;
    std::vector<std::string> seen;
    dispatcher.subscribe(&camera, concert::any_message, [&](device* d, std::string_view message) {
        seen.push_back(fmt::format("{} {}", d->name, message));
    });
    dispatcher.send(&camera, "frame");
    dispatcher.send(&other, "frame");
    dispatcher.send(&camera, "stopped");
    dispatcher.flush();
    EXPECT_EQ(seen, (std::vector<std::string>{"camera frame", "camera stopped"}));
}

TEST(Dispatcher, ExactThenAnySenderThenAnyMessageHandlersRunForOneMessage) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::string order;
    dispatcher.subscribe(&sender, concert::any_message, [&](const void*) { order += "every "; });
    dispatcher.subscribe(concert::any_sender, "m", [&](const void*) { order += "any "; });
    dispatcher.subscribe(&sender, "m", [&](const void*) { order += "exact1 "; });
    dispatcher.subscribe(&sender, "m", [&](const void*) { order += "exact2 "; });
    dispatcher.send(&sender, "m");
    dispatcher.flush();
    EXPECT_EQ(order, "exact1 exact2 any every ");
}

TEST(Dispatcher, NullHandlerIsInvalidArgument) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    void (*null_function)(const void*) = nullptr;
    EXPECT_THROW(dispatcher.subscribe(&sender, "m", null_function), std::invalid_argument);
    EXPECT_THROW(dispatcher.subscribe(&sender, "m", std::function<void(const int*)>{}),
                 std::invalid_argument);
    EXPECT_THROW(dispatcher.subscribe(concert::any_sender, "m", std::function<void(const void*)>{}),
                 std::invalid_argument);
}

TEST(Dispatcher, ThrowingHandlerIsReportedAndLaterMessagesAreStillDelivered) {
    recorded_errors errors;
    concert::Dispatcher dispatcher;
    const int sender = 0;
    int delivered = 0;
    dispatcher.subscribe(&sender, "fail", [](const void*) { throw std::runtime_error("broken"); });
    dispatcher.subscribe(&sender, "fail", [&](const void*) { ++delivered; });
    dispatcher.subscribe(&sender, "next", [&](const void*) { ++delivered; });
    dispatcher.send(&sender, "fail");
    dispatcher.send(&sender, "next");
    dispatcher.flush();
    EXPECT_EQ(delivered, 2);
    const auto entries = errors.entries();
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_NE(entries[0].find("\"fail\""), std::string::npos) << entries[0];
    EXPECT_NE(entries[0].find("broken"), std::string::npos) << entries[0];
}

TEST(Dispatcher, UnsubscribedHandlerIsNotCalled) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    int calls = 0;
    auto s = dispatcher.subscribe(&sender, "m", [&](const void*) { ++calls; });
    EXPECT_TRUE(s.active());
    dispatcher.send(&sender, "m");
    dispatcher.flush();
    dispatcher.unsubscribe(s);
    EXPECT_FALSE(s.active());
    dispatcher.send(&sender, "m");
    dispatcher.flush();
    EXPECT_EQ(calls, 1);
    dispatcher.unsubscribe(s);  // a second time does nothing
    dispatcher.unsubscribe(concert::subscription{});
}

TEST(Dispatcher, ScopedSubscriptionUnsubscribesOnDestruction) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    int calls = 0;
    {
        concert::scoped_subscription s{
            dispatcher.subscribe(&sender, "m", [&](const void*) { ++calls; })};
        concert::scoped_subscription moved = std::move(s);
        dispatcher.send(&sender, "m");
        dispatcher.flush();
    }
    dispatcher.send(&sender, "m");
    dispatcher.flush();
    EXPECT_EQ(calls, 1);
}

TEST(Dispatcher, SubscriptionOfAnotherDispatcherIsInvalidArgument) {
    concert::Dispatcher first;
    concert::Dispatcher second;
    const int sender = 0;
    auto s = first.subscribe(&sender, "m", [](const void*) {});
    EXPECT_THROW(second.unsubscribe(s), std::invalid_argument);
    EXPECT_TRUE(s.active());
}

TEST(Dispatcher, HandlerMayUnsubscribeItselfAndAHandlerStillToCome) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    int first_calls = 0;
    int second_calls = 0;
    concert::subscription first;
    concert::subscription second;
    first = dispatcher.subscribe(&sender, "m", [&](const void*) {
        ++first_calls;
        dispatcher.unsubscribe(first);
        dispatcher.unsubscribe(second);
    });
    second = dispatcher.subscribe(&sender, "m", [&](const void*) { ++second_calls; });
    dispatcher.send(&sender, "m");
    dispatcher.send(&sender, "m");
    dispatcher.flush();
    EXPECT_EQ(first_calls, 1);
    EXPECT_EQ(second_calls, 0);
}

TEST(Dispatcher, HandlerMaySubscribeAndSend) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::vector<std::string> seen;
    dispatcher.subscribe(&sender, "start", [&](const void* s) {
        seen.emplace_back("start");
        dispatcher.subscribe(s, "next", [&](const void*) { seen.emplace_back("next"); });
        dispatcher.send(s, "next");
    });
    dispatcher.send(&sender, "start");
    dispatcher.flush();
    dispatcher.flush();  // the nested send was made before the first flush returned
    EXPECT_EQ(seen, (std::vector<std::string>{"start", "next"}));
}

TEST(Dispatcher, FlushInsideAHandlerIsLogicError) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    bool threw = false;
    dispatcher.subscribe(&sender, "m", [&](const void*) {
        try {
            dispatcher.flush();
        } catch (const std::logic_error&) {
            threw = true;
        }
    });
    dispatcher.send(&sender, "m");
    dispatcher.flush();
    EXPECT_TRUE(threw);
}

TEST(Dispatcher, WaitReturnsTrueWhenTheMessageIsSent) {
    concert::Dispatcher dispatcher;
    EXPECT_TRUE(
        concert::testing::wait_sees_a_message_sent_meanwhile(dispatcher, std::chrono::hours(1)));
}

TEST(Dispatcher, WaitTimesOutWhenOnlyOtherMessagesAreSent) {
    concert::Dispatcher dispatcher;
    const int motor = 0;
    const int camera = 0;
    dispatcher.send(&motor, "stopped");  // before the wait: it does not count
    dispatcher.send(&camera, "stopped");
    EXPECT_FALSE(dispatcher.wait(&motor, "stopped", std::chrono::milliseconds(20)));
}

TEST(Dispatcher, WaitInsideAHandlerSeesAMessageSentFromAnotherThread) {
    concert::Dispatcher dispatcher;
    const int motor = 0;
    std::atomic<bool> waiting{false};
    std::atomic<bool> done{false};
    bool seen = false;
    dispatcher.subscribe(&motor, "move", [&](const void*) {
        waiting = true;
        seen = dispatcher.wait(&motor, "stopped", std::chrono::hours(1));
    });
    std::thread controller([&] {
        while (!waiting) {
            std::this_thread::yield();
        }
        while (!done) {
            dispatcher.send(&motor, "stopped");
            std::this_thread::yield();
        }
    });
    dispatcher.send(&motor, "move");
    dispatcher.flush();
    EXPECT_TRUE(seen);
    done = true;
    controller.join();
}

TEST(Dispatcher, DestructionDeliversEverythingAlreadySent) {
    const int sender = 0;
    std::atomic<int> calls{0};
    {
        concert::Dispatcher dispatcher;
        dispatcher.subscribe(&sender, "m", [&](const void*) { ++calls; });
        for (int i = 0; i < 1000; ++i) {
            dispatcher.send(&sender, "m");
        }
    }
    EXPECT_EQ(calls, 1000);
}

TEST(Dispatcher, AfterShutdownSendsAreDeliveredInlineOnTheSendersThread) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::vector<std::thread::id> threads;
    dispatcher.subscribe(&sender, "m",
                         [&](const void*) { threads.push_back(std::this_thread::get_id()); });
    dispatcher.send(&sender, "m");
    dispatcher.shutdown();
    ASSERT_EQ(threads.size(), 1U);
    dispatcher.send(&sender, "m");
    ASSERT_EQ(threads.size(), 2U);
    EXPECT_EQ(threads[1], std::this_thread::get_id());
}

TEST(Dispatcher, UnusedDispatcherIsDestroyedWithoutStartingAnything) {
    concert::Dispatcher dispatcher;
    dispatcher.shutdown();
    int calls = 0;
    const int sender = 0;
    dispatcher.subscribe(&sender, "m", [&](const void*) { ++calls; });
    dispatcher.send(&sender, "m");
    EXPECT_EQ(calls, 1);
}

}  // namespace
