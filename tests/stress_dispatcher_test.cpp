// Bounded stress of the dispatcher: subscriptions churned from several threads and from inside
// handlers while other threads send. Delivery stays exactly-once and in order per sender, and no
// handler runs once unsubscribe has returned.
#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <concert/concert.hpp>

namespace {

// Fixed counts, chosen so that the whole file runs in seconds under ThreadSanitizer.
constexpr int sender_count = 2;
constexpr std::uint64_t sends_per_sender = 40000;
constexpr int churn_threads = 2;
constexpr int churns_per_thread = 4000;
constexpr std::uint64_t inner_churn_period =
    50;  // a handler re-subscribes every this many messages

// A device that sends its sequence numbers; its permanent handler checks they arrive in order.
struct device {
    std::uint64_t next = 0;  // touched by one delivering thread at a time
    std::uint64_t out_of_order = 0;
};

void check_sequence(device* d, std::string_view message) {
    std::uint64_t sequence = 0;
    std::from_chars(message.data(), message.data() + message.size(), sequence);
    if (sequence != d->next) {
        ++d->out_of_order;
    }
    d->next = sequence + 1;
}

// One churned subscription: its handler must never run after `retired` is set, which happens as
// soon as unsubscribe (from a thread other than the delivering one) has returned.
struct churned {
    std::atomic<bool> retired{false};
    std::atomic<int> calls{0};
};

TEST(StressDispatcher, ChurnFromThreadsAndHandlersWhileOthersSendKeepsDeliveryExactAndFinal) {
    concert::Dispatcher dispatcher;
    std::vector<device> devices(sender_count);
    for (auto& d : devices) {
        dispatcher.subscribe(&d, concert::any_message, check_sequence);
    }

    // From inside a handler of device 0: every few messages, subscribe a fresh handler to device 1
    // and unsubscribe the previous one (from inside a handler unsubscribe does not wait).
    std::atomic<int> inner_calls{0};
    std::atomic<int> inner_subscribed{0};
    concert::subscription inner;  // touched only by handlers of device 0, one call at a time
    dispatcher.subscribe(&devices[0], concert::any_message, [&](device* d, std::string_view) {
        if (d->next % inner_churn_period != 0) {
            return;
        }
        dispatcher.unsubscribe(inner);
        EXPECT_FALSE(inner.active());
        inner = dispatcher.subscribe(&devices[1], concert::any_message,
                                     [&](device*) { ++inner_calls; });
        ++inner_subscribed;
    });

    std::atomic<int> late_calls{0};
    std::vector<std::deque<churned>> records(churn_threads);
    std::vector<std::thread> threads;
    for (int t = 0; t < churn_threads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < churns_per_thread; ++i) {
                churned& record = records[t].emplace_back();
                const auto handler = [&record, &late_calls](const void*) {
                    if (record.retired.load()) {
                        ++late_calls;
                    }
                    ++record.calls;
                };
                device* target = &devices[static_cast<std::size_t>(i) % sender_count];
                const concert::subscription s =
                    i % 3 == 0 ? dispatcher.subscribe(concert::any_sender, "7", handler)
                               : dispatcher.subscribe(static_cast<const void*>(target),
                                                      concert::any_message, handler);
                dispatcher.unsubscribe(s);
                record.retired.store(true);
                if (i % 2 == 0) {
                    dispatcher.unsubscribe(s);  // twice: does nothing
                }
            }
        });
    }
    for (auto& d : devices) {
        threads.emplace_back([&dispatcher, &d] {
            for (std::uint64_t i = 0; i < sends_per_sender; ++i) {
                dispatcher.send(&d, std::to_string(i));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    dispatcher.flush();

    for (const auto& d : devices) {
        EXPECT_EQ(d.next, sends_per_sender);
        EXPECT_EQ(d.out_of_order, 0U);
    }
    EXPECT_EQ(late_calls.load(), 0);
    EXPECT_EQ(inner_subscribed.load(), static_cast<int>(sends_per_sender / inner_churn_period));
    EXPECT_TRUE(inner.active());
    // Each inner handler saw at most the messages device 1 sent.
    EXPECT_LE(inner_calls.load(), static_cast<int>(sends_per_sender) * inner_subscribed.load());
}

}  // namespace
