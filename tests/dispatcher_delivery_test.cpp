// Where and in which order the dispatcher delivers: message loops iterate instead of recursing
// (inline under DISABLE and after shutdown, as on the delivery thread), one handler runs at a time
// in send order whatever DISABLE does meanwhile, a dispatcher may be shut down or destroyed by its
// own handlers, and wait() takes any timeout.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <concert/concert.hpp>

#include "dispatcher_support.hpp"

namespace {

// Sets concert::DISABLE for one test and restores it.
class disable_async {
  public:
    explicit disable_async(bool disabled) : previous_(concert::DISABLE.exchange(disabled)) {}
    ~disable_async() { concert::DISABLE = previous_; }
    disable_async(const disable_async&) = delete;
    disable_async& operator=(const disable_async&) = delete;

  private:
    bool previous_;
};

// Counts handlers running at once: more than one at any moment is a failure.
class overlap_detector {
  public:
    void enter() {
        if (running_.fetch_add(1) != 0) {
            ++overlaps_;
        }
    }
    void leave() { running_.fetch_sub(1); }
    int overlaps() const { return overlaps_; }

  private:
    std::atomic<int> running_{0};
    std::atomic<int> overlaps_{0};
};

constexpr int chain_length = 50'000;

// A state machine that steps itself: each step sends the next. Records the deepest nesting of its
// handler, which an iterative delivery keeps at 1.
struct stepper {
    concert::Dispatcher& dispatcher;
    int steps = 0;
    int depth = 0;
    int deepest = 0;

    void subscribe() {
        dispatcher.subscribe(this, "step", [](stepper* self) {
            ++self->depth;
            self->deepest = std::max(self->deepest, self->depth);
            if (++self->steps < chain_length) {
                self->dispatcher.send(self, "step");
            }
            --self->depth;
        });
    }
};

TEST(DispatcherDelivery, AFiftyThousandStepMessageLoopIteratesUnderDisable) {
    const disable_async disabled(true);
    concert::Dispatcher dispatcher;
    stepper machine{dispatcher};
    machine.subscribe();
    dispatcher.send(&machine, "step");
    EXPECT_EQ(machine.steps, chain_length);  // delivered before send returned
    EXPECT_EQ(machine.deepest, 1);
}

TEST(DispatcherDelivery, AFiftyThousandStepMessageLoopIteratesAfterShutdown) {
    concert::Dispatcher dispatcher;
    stepper machine{dispatcher};
    machine.subscribe();
    dispatcher.shutdown();
    dispatcher.send(&machine, "step");
    EXPECT_EQ(machine.steps, chain_length);
    EXPECT_EQ(machine.deepest, 1);
}

TEST(DispatcherDelivery, AFiftyThousandStepMessageLoopRunsOnTheDeliveryThread) {
    concert::Dispatcher dispatcher;
    stepper machine{dispatcher};
    machine.subscribe();
    dispatcher.send(&machine, "step");
    // Each step is sent before its handler returns, so one flush per step at most: flush until the
    // chain has ended (its last step sends nothing).
    for (int i = 0; i < chain_length; ++i) {
        dispatcher.flush();
    }
    EXPECT_EQ(machine.steps, chain_length);
    EXPECT_EQ(machine.deepest, 1);
}

// Messages sent by handlers are delivered after those already queued, in send order (breadth
// first), on every path: the delivery thread, inline under DISABLE, inline after shutdown.
std::vector<std::string> nested_sends_order(concert::Dispatcher& dispatcher) {
    const int sender = 0;
    std::vector<std::string> seen;
    dispatcher.subscribe(&sender, concert::any_message, [&](const void* s, std::string_view m) {
        seen.emplace_back(m);
        if (m == "a") {
            dispatcher.send(s, "b");
            dispatcher.send(s, "c");
        } else if (m == "b") {
            dispatcher.send(s, "d");
        }
    });
    dispatcher.subscribe(&sender, "a", [&](const void*) { seen.emplace_back("a2"); });
    dispatcher.send(&sender, "a");
    // Each flush covers the messages sent before it: one per generation of nested sends.
    for (int generation = 0; generation < 3; ++generation) {
        dispatcher.flush();
    }
    return seen;
}

TEST(DispatcherDelivery, NestedSendsAreDeliveredInSendOrderOnEveryPath) {
    const std::vector<std::string> expected{"a2", "a", "b", "c", "d"};
    {
        const disable_async enabled(false);
        concert::Dispatcher dispatcher;
        EXPECT_EQ(nested_sends_order(dispatcher), expected) << "delivery thread";
    }
    {
        concert::Dispatcher dispatcher;
        dispatcher.shutdown();
        EXPECT_EQ(nested_sends_order(dispatcher), expected) << "after shutdown";
    }
    {
        const disable_async disabled(true);
        concert::Dispatcher dispatcher;
        EXPECT_EQ(nested_sends_order(dispatcher), expected) << "DISABLE";
    }
}

// Senders each number their messages; one handler per sender checks the order, and every handler
// checks that it runs alone.
struct numbered_senders {
    static constexpr int count = 3;
    struct record {
        std::uint64_t next = 0;
        std::uint64_t out_of_order = 0;
    };
    std::array<record, count> records{};
    overlap_detector overlap;

    void subscribe(concert::Dispatcher& dispatcher) {
        for (auto& r : records) {
            dispatcher.subscribe(&r, concert::any_message,
                                 [this](record* self, std::string_view m) {
                                     overlap.enter();
                                     std::uint64_t sequence = 0;
                                     std::from_chars(m.data(), m.data() + m.size(), sequence);
                                     if (sequence != self->next) {
                                         ++self->out_of_order;
                                     }
                                     self->next = sequence + 1;
                                     overlap.leave();
                                 });
        }
    }

    // Sends `per_sender` numbered messages from one thread per sender, and joins them.
    void send_all(concert::Dispatcher& dispatcher, std::uint64_t per_sender) {
        std::vector<std::thread> threads;
        for (auto& r : records) {
            threads.emplace_back([&dispatcher, &r, per_sender] {
                for (std::uint64_t i = 0; i < per_sender; ++i) {
                    dispatcher.send(&r, fmt::format_int(i).c_str());
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
    }

    void expect_all_in_order(std::uint64_t per_sender) const {
        for (const auto& r : records) {
            EXPECT_EQ(r.next, per_sender);
            EXPECT_EQ(r.out_of_order, 0U);
        }
        EXPECT_EQ(overlap.overlaps(), 0);
    }
};

TEST(DispatcherDelivery, ThreadsSendingInlineAtOnceGetOneHandlerAtATimeInSendOrder) {
    constexpr std::uint64_t per_sender = 20'000;
    const disable_async disabled(true);
    concert::Dispatcher dispatcher;
    numbered_senders senders;
    senders.subscribe(dispatcher);
    senders.send_all(dispatcher, per_sender);
    dispatcher.flush();  // every send has returned; whoever was delivering has finished
    senders.expect_all_in_order(per_sender);
}

TEST(DispatcherDelivery, TogglingDisableAtRandomKeepsSendOrderAndOneHandlerAtATime) {
    constexpr std::uint64_t per_sender = 20'000;
    const disable_async restore(concert::DISABLE);
    concert::Dispatcher dispatcher;
    numbered_senders senders;
    senders.subscribe(dispatcher);
    std::atomic<bool> sending{true};
    std::vector<std::thread> togglers;
    for (unsigned seed = 1; seed <= 2; ++seed) {
        togglers.emplace_back([&sending, seed] {
            std::minstd_rand random(seed);
            while (sending) {
                concert::DISABLE = (random() & 1U) != 0;
                std::this_thread::yield();
            }
        });
    }
    senders.send_all(dispatcher, per_sender);
    sending = false;
    for (auto& t : togglers) {
        t.join();
    }
    concert::DISABLE = false;
    dispatcher.flush();
    senders.expect_all_in_order(per_sender);
}

TEST(DispatcherDelivery, AHandlerMayWaitForAnotherThreadThatSends) {
    // The other thread finds this one delivering: its send queues and returns, so the join ends.
    for (const bool disabled : {false, true}) {
        const disable_async mode(disabled);
        concert::Dispatcher dispatcher;
        const int sender = 0;
        std::vector<std::string> seen;
        dispatcher.subscribe(&sender, "outer", [&](const void* s) {
            std::thread([&dispatcher, s] { dispatcher.send(s, "inner"); }).join();
            seen.emplace_back("outer done");
        });
        dispatcher.subscribe(&sender, "inner", [&](const void*) { seen.emplace_back("inner"); });
        dispatcher.send(&sender, "outer");
        dispatcher.flush();
        dispatcher.flush();  // "inner" was sent before the first flush returned
        EXPECT_EQ(seen, (std::vector<std::string>{"outer done", "inner"})) << disabled;
    }
}

TEST(DispatcherDelivery, AHandlerMayWaitForAnotherThreadUnsubscribingAHandlerStillToCome) {
    // Unsubscribe waits only for a call of the handler it removes, never for the one in progress
    // elsewhere: the later handler of the same message is skipped, and nothing deadlocks.
    for (const bool disabled : {false, true}) {
        const disable_async mode(disabled);
        concert::Dispatcher dispatcher;
        const int sender = 0;
        int later_calls = 0;
        concert::subscription later;
        dispatcher.subscribe(&sender, "m", [&](const void*) {
            std::thread([&] { dispatcher.unsubscribe(later); }).join();
        });
        later = dispatcher.subscribe(&sender, "m", [&](const void*) { ++later_calls; });
        concert::subscription unrelated =
            dispatcher.subscribe(&sender, "other", [](const void*) {});
        dispatcher.subscribe(&sender, "m", [&](const void*) {
            std::thread([&] { dispatcher.unsubscribe(unrelated); }).join();
        });
        dispatcher.send(&sender, "m");
        dispatcher.flush();
        EXPECT_EQ(later_calls, 0) << disabled;
        EXPECT_FALSE(later.active());
        EXPECT_FALSE(unrelated.active());
    }
}

TEST(DispatcherDelivery, AHandlerOfAnotherDispatcherRunInlineMayUnsubscribeTheCallerInProgress) {
    // Delivering `first`, this thread delivers `second` inline; `second`'s handler unsubscribes
    // the `first` handler whose call is in progress on this very thread: it must not wait for it.
    const disable_async disabled(true);
    concert::Dispatcher first;
    concert::Dispatcher second;
    const int sender = 0;
    int calls = 0;
    concert::subscription outer;
    outer = first.subscribe(&sender, "m", [&](const void* s) {
        ++calls;
        second.send(s, "unsubscribe");
    });
    second.subscribe(&sender, "unsubscribe", [&](const void*) { first.unsubscribe(outer); });
    first.send(&sender, "m");
    first.send(&sender, "m");
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(outer.active());
}

TEST(DispatcherDelivery, AHandlerMayShutDownItsOwnDispatcherBeforeItIsDestroyed) {
    // ASan reported a use after free: the delivery thread was detached, and its state deleted
    // while it still ran. On the delivery thread, the handler lingers until the destructor has
    // begun, so that the destructor meets the thread still running (the yields only widen that
    // window; the destructor must wait for the thread however long it takes).
    const auto test_thread = std::this_thread::get_id();
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> after{0};
        std::atomic<bool> destroying{false};
        {
            concert::Dispatcher dispatcher;
            const int sender = 0;
            dispatcher.subscribe(&sender, "stop", [&](const void*) {
                dispatcher.shutdown();
                if (std::this_thread::get_id() != test_thread) {
                    while (!destroying) {
                        std::this_thread::yield();
                    }
                    for (int i = 0; i < 1000; ++i) {
                        std::this_thread::yield();
                    }
                }
            });
            dispatcher.subscribe(&sender, "after", [&](const void*) { ++after; });
            dispatcher.send(&sender, "stop");
            dispatcher.send(&sender, "after");
            destroying = true;
        }
        // Sent before the destructor: delivered by the delivery thread or inline.
        EXPECT_EQ(after, 1);
    }
}

TEST(DispatcherDelivery, AHandlerMayDestroyItsOwnDispatcherAndTheQueueIsStillDelivered) {
    for (const bool disabled : {false, true}) {
        const disable_async mode(disabled);
        std::promise<void> finished;
        std::promise<void> send_returned;
        const auto sending_thread = std::this_thread::get_id();
        auto* dispatcher = new concert::Dispatcher;
        const int sender = 0;
        std::vector<std::string> seen;
        dispatcher->subscribe(&sender, "start", [&](const void* s) {
            // Like any object, a dispatcher is destroyed only once no other call on it is in
            // progress: on the delivery thread, wait for the send below to return.
            if (std::this_thread::get_id() != sending_thread) {
                send_returned.get_future().wait();
            }
            dispatcher->send(s, "destroy");
            dispatcher->send(s, "after");
        });
        dispatcher->subscribe(&sender, "destroy", [&](const void*) {
            seen.emplace_back("destroy");
            delete dispatcher;
        });
        dispatcher->subscribe(&sender, "after", [&](const void*) {
            seen.emplace_back("after");
            finished.set_value();
        });
        dispatcher->send(&sender, "start");
        send_returned.set_value();
        finished.get_future().wait();
        EXPECT_EQ(seen, (std::vector<std::string>{"destroy", "after"})) << disabled;
    }
}

// Signals when destroyed: stands for the last of a dispatcher's state to go.
struct destruction_signal {
    std::shared_ptr<std::promise<void>> destroyed = std::make_shared<std::promise<void>>();
    destruction_signal() = default;
    destruction_signal(destruction_signal&&) = default;
    destruction_signal& operator=(destruction_signal&&) = delete;
    destruction_signal(const destruction_signal&) = delete;
    destruction_signal& operator=(const destruction_signal&) = delete;
    ~destruction_signal() {
        if (destroyed) {
            destroyed->set_value();
        }
    }
};

TEST(DispatcherDelivery, ADispatcherOwnedByItsOwnHandlerIsDestroyedOnItsDeliveryThread) {
    // The handler holds a reference to its dispatcher and unsubscribes itself: when that is the
    // last, the destructor runs on the thread that lets go of the old table (the delivery thread,
    // or an inline deliverer, holding the role but outside any handler), which must leave the
    // state to itself. Otherwise the test's own reference goes last, as usual.
    destruction_signal signal;
    auto destroyed = signal.destroyed->get_future();
    {
        auto owner = std::make_shared<concert::Dispatcher>();
        const int sender = 0;
        owner->subscribe(&sender, "witness", [s = std::move(signal)](const void*) {});
        auto self = std::make_shared<concert::subscription>();
        *self = owner->subscribe(&sender, "m",
                                 [keep = owner, self](const void*) { keep->unsubscribe(*self); });
        owner->send(&sender, "m");
    }  // the handler's reference may be the last: then the delivery thread destroys it
    destroyed.wait();
}

template <class Duration>
void expect_wait_sees_the_message(Duration timeout) {
    concert::Dispatcher dispatcher;
    EXPECT_TRUE(concert::testing::wait_sees_a_message_sent_meanwhile(dispatcher, timeout));
}

TEST(DispatcherDelivery, WaitWithTheLongestTimeoutOfAnyUnitWaitsForever) {
    expect_wait_sees_the_message(std::chrono::steady_clock::duration::max());
    expect_wait_sees_the_message(std::chrono::nanoseconds::max());
    expect_wait_sees_the_message(std::chrono::milliseconds::max());
    expect_wait_sees_the_message(std::chrono::seconds::max());
    expect_wait_sees_the_message(std::chrono::hours::max());
    expect_wait_sees_the_message(std::chrono::duration<double>::max());
}

TEST(DispatcherDelivery, WaitWithTheMostNegativeTimeoutOfAnyUnitReturnsAtOnce) {
    concert::Dispatcher dispatcher;
    const int motor = 0;
    EXPECT_FALSE(dispatcher.wait(&motor, "stopped", std::chrono::hours::min()));
    EXPECT_FALSE(dispatcher.wait(&motor, "stopped", std::chrono::nanoseconds::min()));
    EXPECT_FALSE(dispatcher.wait(&motor, "stopped", std::chrono::duration<double>::min()));
}

}  // namespace
