// concert::Dispatcher from many threads at once: exactly-once in-order delivery, subscribing and
// unsubscribing while messages flow, and unsubscribe's guarantee.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <concert/concert.hpp>

namespace {

// Spins (yielding) until `condition` holds: a test's way to meet another thread without sleeping.
template <class Condition>
void until(Condition condition) {
    while (!condition()) {
        std::this_thread::yield();
    }
}

TEST(DispatcherConcurrency, FourThreadsOfAHundredThousandSendsAreDeliveredOnceInPerSenderOrder) {
    constexpr int threads = 4;
    constexpr std::uint64_t sends_per_thread = 100'000;
    struct sender_record {
        std::uint64_t next = 0;  // the sequence number expected next
        std::uint64_t out_of_order = 0;
    };
    std::array<sender_record, threads> senders{};
    concert::Dispatcher dispatcher;
    // One counting handler, subscribed to every message of each sender; the message is the sender's
    // sequence number.
    const auto count = [](sender_record* sender, std::string_view message) {
        std::uint64_t sequence = 0;
        std::from_chars(message.data(), message.data() + message.size(), sequence);
        if (sequence != sender->next) {
            ++sender->out_of_order;
        }
        sender->next = sequence + 1;
    };
    for (auto& sender : senders) {
        dispatcher.subscribe(&sender, concert::any_message, count);
    }
    std::vector<std::thread> workers;
    for (auto& sender : senders) {
        workers.emplace_back([&dispatcher, &sender] {
            for (std::uint64_t i = 0; i < sends_per_thread; ++i) {
                dispatcher.send(&sender, fmt::format_int(i).c_str());
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    dispatcher.flush();
    for (const auto& sender : senders) {
        EXPECT_EQ(sender.next, sends_per_thread);
        EXPECT_EQ(sender.out_of_order, 0U);
    }
}

TEST(DispatcherConcurrency, UnsubscribeWaitsForTheCallInProgress) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
    std::atomic<bool> unsubscribe_returned{false};
    bool returned_while_running = false;
    auto s = dispatcher.subscribe(&sender, "m", [&](const void*) {
        entered = true;
        until([&] { return release.load(); });
        returned_while_running = unsubscribe_returned;
    });
    // A thread of its own sends, so that an inline delivery (async disabled) does not block this
    // one.
    std::thread sending([&] { dispatcher.send(&sender, "m"); });
    until([&] { return entered.load(); });
    std::thread unsubscribing([&] {
        dispatcher.unsubscribe(s);
        unsubscribe_returned = true;
    });
    until([&] { return !s.active(); });  // unsubscribe has begun
    EXPECT_FALSE(unsubscribe_returned);
    release = true;
    unsubscribing.join();
    sending.join();
    dispatcher.flush();
    EXPECT_FALSE(returned_while_running);
    EXPECT_TRUE(unsubscribe_returned);
}

TEST(DispatcherConcurrency, OnceUnsubscribeReturnsTheHandlerIsNeverCalledAgain) {
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::atomic<bool> sending{true};
    std::atomic<bool> unsubscribed{false};
    std::atomic<int> late_calls{0};
    std::atomic<int> calls{0};
    std::thread flood([&] {
        while (sending) {
            dispatcher.send(&sender, "m");
            dispatcher.flush();  // keeps the backlog short, so each round meets the handler soon
        }
    });
    for (int round = 0; round < 200; ++round) {
        // A call after unsubscribe returned would touch freed memory (ASan) or race with its
        // release (TSan), besides being counted.
        auto payload = std::make_unique<int>(0);
        unsubscribed = false;
        auto s = dispatcher.subscribe(&sender, "m", [&, p = payload.get()](const void*) {
            ++*p;
            ++calls;
            if (unsubscribed) {
                ++late_calls;
            }
        });
        const int before = calls;
        until([&] { return calls != before; });  // unsubscribe while the handler is being called
        dispatcher.unsubscribe(s);
        unsubscribed = true;
        payload.reset();
    }
    sending = false;
    flood.join();
    dispatcher.flush();
    EXPECT_EQ(late_calls, 0);
}

TEST(DispatcherConcurrency, SubscribingUnsubscribingAndSendingFromManyThreadsAndHandlers) {
    constexpr int threads = 4;
    constexpr int rounds = 2000;
    constexpr int nested_every = 10;
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::atomic<int> counted{0};
    dispatcher.subscribe(&sender, "m", [&](const void*) { ++counted; });
    // On the delivery thread: subscribe, send, unsubscribe.
    dispatcher.subscribe(&sender, "nested", [&](const void* s) {
        auto temporary = dispatcher.subscribe(s, "m", [](const void*) {});
        dispatcher.send(s, "m");
        dispatcher.unsubscribe(temporary);
    });
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < rounds; ++i) {
                concert::scoped_subscription temporary{
                    dispatcher.subscribe(&sender, "m", [](const void*) {})};
                dispatcher.send(&sender, "m");
                if (i % nested_every == 0) {
                    dispatcher.send(&sender, "nested");
                }
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    dispatcher.flush();
    dispatcher.flush();  // the nested sends were made before the first flush returned
    EXPECT_EQ(counted, threads * rounds + threads * (rounds / nested_every));
}

}  // namespace
