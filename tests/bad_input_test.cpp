// Every misuse in docs/bad-input.md, one test per row: a clear exception or a documented defined
// behaviour, never a crash, a hang or a silent loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <concert/concert.hpp>

#include "dispatcher_support.hpp"
#include "support.hpp"

namespace {

using concert::testing::reported_errors;

// Passes when `text` contains `part`, and otherwise shows both.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << '"' << text << "\" does not contain \"" << part << '"';
}

// The message of the exception `call` throws as `Exception`; fails the test if it throws nothing.
template <class Exception, class Call>
std::string message_of(Call&& call) {
    try {
        std::forward<Call>(call)();
    } catch (const Exception& e) {
        return e.what();
    }
    ADD_FAILURE() << "no exception was thrown";
    return {};
}

// Sets an environment variable for one scope and restores the previous value.
class scoped_environment {
  public:
    scoped_environment(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            previous_ = old;
        }
        ::setenv(name, value, 1);
    }
    ~scoped_environment() {
        if (previous_) {
            ::setenv(name_, previous_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    scoped_environment(const scoped_environment&) = delete;
    scoped_environment& operator=(const scoped_environment&) = delete;

  private:
    const char* name_;
    std::optional<std::string> previous_;
};

// Row: a pool of size 0.
TEST(BadInput, APoolOfSizeZeroIsInvalidArgument) {
    const auto message = message_of<std::invalid_argument>([] { concert::thread_pool pool(0); });
    EXPECT_TRUE(contains(message, "at least 1"));
}

// Row: a bad CONCERT_THREADS.
TEST(BadInput, ABadConcertThreadsIsInvalidArgumentNamingTheVariableAndTheValue) {
    for (const char* bad : {"", "zero", "0", "-4", "12abc", " 8", "4097", "99999999999999999999"}) {
        const scoped_environment threads("CONCERT_THREADS", bad);
        const auto message =
            message_of<std::invalid_argument>([] { concert::default_pool_size(); });
        EXPECT_TRUE(contains(message, std::string("CONCERT_THREADS='") + bad + "'")) << bad;
    }
    const scoped_environment threads("CONCERT_THREADS", "4096");
    EXPECT_EQ(concert::default_pool_size(), 4096U);
}

// Row: result() (or any other use) on an empty future.
TEST(BadInput, UsingADefaultConstructedFutureIsInvalidFutureNamingTheCall) {
    const concert::future<int> empty;
    EXPECT_FALSE(empty.valid());
    EXPECT_TRUE(contains(message_of<concert::invalid_future>([&] { empty.result(); }), "result()"));
    EXPECT_TRUE(contains(message_of<concert::invalid_future>([&] { empty.done(); }), "done()"));
    EXPECT_TRUE(contains(
        message_of<concert::invalid_future>([&] { empty.wait_for(std::chrono::seconds(1)); }),
        "wait_for()"));
}

// Row: waiting on a moved-from future.
TEST(BadInput, WaitingOnAMovedFromFutureIsInvalidFutureAndTheMovedToOneStillWorks) {
    concert::future<int> original = concert::submit([] { return 7; });
    const concert::future<int> moved = std::move(original);
    EXPECT_TRUE(contains(message_of<concert::invalid_future>([&] { original.wait(); }), "wait()"));
    EXPECT_THROW(concert::wait(moved, original), concert::invalid_future);
    EXPECT_EQ(moved.result(), 7);
}

// Row: submitting to a pool whose destruction has begun. From outside the pool: pool_stopped; from
// its own tasks (which the destructor drains): accepted and run. Every accepted task runs.
TEST(BadInput, SubmittingToAPoolBeingDestroyedThrowsPoolStoppedOutsideAndRunsItInside) {
    CONCERT_SKIP_WHEN_INLINE();
    std::optional<concert::thread_pool> storage(std::in_place, 1);
    concert::thread_pool& pool = *storage;
    concert::testing::gate release;
    concert::testing::occupy_worker(pool, release);
    std::atomic<int> ran{0};
    int accepted = 0;
    // Queued behind the occupied worker, so it runs while the destructor drains the queue.
    pool.post([&] {
        ++ran;
        pool.post([&] { ++ran; });
    });
    accepted += 2;

    std::thread destroyer([&] { storage.reset(); });
    std::string message;
    for (;;) {  // accepted until the destructor marks the pool as stopping
        try {
            pool.post([&] { ++ran; });
            ++accepted;
        } catch (const concert::pool_stopped& e) {
            message = e.what();
            break;
        }
    }
    release.open();
    destroyer.join();
    EXPECT_TRUE(contains(message, "destruction began"));
    EXPECT_EQ(ran.load(), accepted);
}

// Row: sending into a finished consumer coroutine.
concert::coroutine<int> take_one(int& taken) {
    taken = co_await concert::receive;
}

TEST(BadInput, SendingIntoAFinishedClosedOrMovedFromCoroutineIsConsumerFinished) {
    int taken = 0;
    auto finished = take_one(taken);
    finished.send(1);
    EXPECT_TRUE(finished.done());
    EXPECT_TRUE(contains(message_of<concert::consumer_finished>([&] { finished.send(2); }),
                         "has finished"));
    EXPECT_EQ(taken, 1);

    auto closed = take_one(taken);
    closed.close();
    EXPECT_TRUE(contains(message_of<concert::consumer_finished>([&] { closed.send(3); }),
                         "closed or moved from"));

    auto source = take_one(taken);
    auto target = std::move(source);
    EXPECT_THROW(source.send(4), concert::consumer_finished);  // moved from on purpose
    target.send(5);
    EXPECT_EQ(taken, 5);
}

// Row: sending into a buffered stage after close(), or after its consumer failed: the consumer's
// exception once, then consumer_finished.
TEST(BadInput, SendingIntoAClosedOrFailedBufferedStageIsConsumerFinished) {
    std::vector<int> received;
    auto closed = concert::buffered(concert::append_to(received), 4);
    closed.send(1);
    closed.close();
    EXPECT_TRUE(
        contains(message_of<concert::consumer_finished>([&] { closed.send(2); }), "closed"));
    EXPECT_EQ(received, std::vector<int>{1});

    auto failing =
        concert::buffered([](int) { throw std::runtime_error("detector saturated"); }, 1);
    int rethrown = 0;
    // The stage fails on the first item; with one slot, the third send at the latest sees it.
    for (int item = 0; item < 3 && rethrown == 0; ++item) {
        try {
            failing.send(item);
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "detector saturated");
            ++rethrown;
        }
    }
    EXPECT_EQ(rethrown, 1);
    EXPECT_TRUE(failing.done());
    EXPECT_THROW(failing.send(9), concert::consumer_finished);
    EXPECT_NO_THROW(failing.close());  // the exception was received already
}

// Row: a buffered stage of capacity 0.
TEST(BadInput, ABufferedStageOfCapacityZeroIsInvalidArgument) {
    const auto message =
        message_of<std::invalid_argument>([] { concert::buffered(concert::discard<int>{}, 0); });
    EXPECT_TRUE(contains(message, "capacity 0"));
}

// Row: a null handler.
TEST(BadInput, SubscribingANullHandlerIsInvalidArgument) {
    concert::Dispatcher dispatcher;
    int camera = 0;
    const std::function<void(int*)> empty;
    void (*null_function)(const void*) = nullptr;
    EXPECT_TRUE(contains(
        message_of<std::invalid_argument>([&] { dispatcher.subscribe(&camera, "frame", empty); }),
        "handler is null"));
    EXPECT_THROW(dispatcher.subscribe(concert::any_sender, "frame", null_function),
                 std::invalid_argument);
}

// Row: a null task: the standard's std::bad_function_call, in the future or at the error handler.
TEST(BadInput, SubmittingAnEmptyFunctionGivesBadFunctionCallInTheFutureOrTheErrorHandler) {
    reported_errors recorded;
    concert::thread_pool pool(1);
    const auto result = pool.submit(std::function<int()>{});
    EXPECT_THROW(result.result(), std::bad_function_call);

    const auto posted_at = concert::source_location::current().line() + 1;
    pool.submit([&pool] { pool.post(std::function<void()>{}); }).wait();
    pool.submit([] {}).wait();  // the post above ran before this, on the only worker
    ASSERT_EQ(recorded.errors().size(), 1U);
    EXPECT_EQ(recorded.errors()[0].second,
              "a fire-and-forget task posted at bad_input_test.cpp:" + std::to_string(posted_at));
}

// Row: unsubscribing twice (or a default-constructed subscription).
TEST(BadInput, UnsubscribingTwiceDoesNothingAndAnotherDispatchersSubscriptionIsInvalidArgument) {
    concert::Dispatcher dispatcher;
    concert::Dispatcher other;
    int motor = 0;
    int calls = 0;
    const auto s = dispatcher.subscribe(&motor, "moved", [&](int*) { ++calls; });
    dispatcher.unsubscribe(s);
    EXPECT_NO_THROW(dispatcher.unsubscribe(s));
    EXPECT_NO_THROW(dispatcher.unsubscribe(concert::subscription{}));
    EXPECT_FALSE(s.active());
    dispatcher.send(&motor, "moved");
    dispatcher.flush();
    EXPECT_EQ(calls, 0);

    const auto foreign = other.subscribe(&motor, "moved", [&](int*) { ++calls; });
    EXPECT_TRUE(
        contains(message_of<std::invalid_argument>([&] { dispatcher.unsubscribe(foreign); }),
                 "another dispatcher"));
    EXPECT_TRUE(foreign.active());
}

// Row: a handler that throws: the error handler gets it, naming the message; delivery goes on.
TEST(BadInput, AThrowingHandlerIsReportedWithItsMessageAndDeliveryGoesOn) {
    reported_errors recorded;
    concert::Dispatcher dispatcher;
    int shutter = 0;
    int later_calls = 0;
    dispatcher.subscribe(&shutter, "opened",
                         [](int*) { throw std::runtime_error("interlock not armed"); });
    dispatcher.subscribe(&shutter, "opened", [&](int*) { ++later_calls; });
    dispatcher.send(&shutter, "opened");
    dispatcher.send(&shutter, "opened");
    dispatcher.flush();
    EXPECT_EQ(later_calls, 2);
    const auto errors = recorded.errors();
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_EQ(errors[0].first, "interlock not armed");
    EXPECT_TRUE(contains(errors[0].second, "the handler of message \"opened\""));
}

// Row: flush() from inside a handler would wait for itself.
TEST(BadInput, FlushingFromInsideAHandlerIsLogicError) {
    concert::Dispatcher dispatcher;
    int detector = 0;
    std::string message;
    dispatcher.subscribe(&detector, "armed", [&](int*) {
        message = message_of<std::logic_error>([&] { dispatcher.flush(); });
    });
    dispatcher.send(&detector, "armed");
    dispatcher.flush();
    EXPECT_TRUE(contains(message, "flush"));
}

// Row: a task that throws a value not derived from std::exception: the very value, rethrown.
TEST(BadInput, ATaskThrowingANonStdExceptionValueRethrowsThatValueOrReportsIt) {
    reported_errors recorded;
    concert::thread_pool pool(1);
    const auto result = pool.submit([]() -> int { throw 42; });
    try {
        result.result();
        ADD_FAILURE() << "no exception was thrown";
    } catch (int value) {
        EXPECT_EQ(value, 42);
    }

    pool.post([] { throw 'x'; });
    pool.submit([] {}).wait();  // the post ran before this, on the only worker
    ASSERT_EQ(recorded.errors().size(), 1U);
    EXPECT_EQ(recorded.errors()[0].first, "a value not derived from std::exception");
    try {
        std::rethrow_exception(recorded.last());
    } catch (char value) {
        EXPECT_EQ(value, 'x');
    }
}

// Row: iterating a generator a second time, or a second begin().
TEST(BadInput, IteratingAGeneratorASecondTimeIsLogicError) {
    auto gen = []() -> concert::generator<int> {
        co_yield 1;
        co_yield 2;
    }();
    int sum = 0;
    for (int x : gen) {
        sum += x;
    }
    EXPECT_EQ(sum, 3);
    EXPECT_TRUE(contains(message_of<std::logic_error>([&] { gen.begin(); }), "second time"));
}

// Row: wait() with the longest timeout of any unit waits forever.
TEST(BadInput, WaitingWithTheLongestTimeoutOfAnyUnitWaitsForever) {
    concert::Dispatcher dispatcher;
    // hours::max() in nanoseconds overflowed to a negative timeout: false at once.
    EXPECT_TRUE(concert::testing::wait_sees_a_message_sent_meanwhile(dispatcher,
                                                                     std::chrono::hours::max()));
}

// Row: a handler that re-sends its own message iterates inline instead of recursing.
TEST(BadInput, AMessageLoopIteratesInlineInsteadOfRecursing) {
    constexpr int steps = 50'000;  // the stack overflowed after about 35,000
    concert::Dispatcher dispatcher;
    dispatcher.shutdown();
    int machine = 0;
    int depth = 0;
    int deepest = 0;
    dispatcher.subscribe(&machine, "step", [&](int* m) {
        deepest = std::max(deepest, ++depth);
        if (++*m < steps) {
            dispatcher.send(m, "step");
        }
        --depth;
    });
    dispatcher.send(&machine, "step");
    EXPECT_EQ(machine, steps);
    EXPECT_EQ(deepest, 1);
}

// Row: a handler that shuts down or destroys its own dispatcher.
TEST(BadInput, AHandlerMayShutDownOrDestroyItsOwnDispatcher) {
    const int sender = 0;
    int after_shutdown = 0;
    {
        concert::Dispatcher dispatcher;
        dispatcher.subscribe(&sender, "stop", [&](const void*) { dispatcher.shutdown(); });
        dispatcher.subscribe(&sender, "after", [&](const void*) { ++after_shutdown; });
        dispatcher.send(&sender, "stop");
        dispatcher.send(&sender, "after");
    }  // ASan: heap-use-after-free here, as the detached delivery thread still ran
    EXPECT_EQ(after_shutdown, 1);

    std::promise<void> after_destruction;
    std::promise<void> send_returned;
    const auto sending_thread = std::this_thread::get_id();
    auto* owned = new concert::Dispatcher;
    owned->subscribe(&sender, "start", [&](const void* s) {
        // Like any object, a dispatcher is destroyed only once no other call on it is in
        // progress: on the delivery thread, wait for the send below to return.
        if (std::this_thread::get_id() != sending_thread) {
            send_returned.get_future().wait();
        }
        owned->send(s, "destroy");
        owned->send(s, "after");
    });
    owned->subscribe(&sender, "destroy", [&](const void*) { delete owned; });
    owned->subscribe(&sender, "after", [&](const void*) { after_destruction.set_value(); });
    owned->send(&sender, "start");
    send_returned.set_value();
    after_destruction.get_future().wait();
}

// Row: toggling DISABLE while handlers run keeps each dispatcher's order, one handler at a time.
TEST(BadInput, TogglingDisableWhileHandlersRunKeepsOrderAndOneAtATime) {
    constexpr int messages = 20'000;
    const bool was_disabled = concert::DISABLE;
    concert::Dispatcher dispatcher;
    const int sender = 0;
    std::atomic<int> running{0};
    int overlaps = 0;  // written only by a handler that found itself not alone
    int out_of_order = 0;
    int next = 0;
    dispatcher.subscribe(&sender, concert::any_message, [&](const void*, std::string_view m) {
        if (running.fetch_add(1) != 0) {
            ++overlaps;
        }
        if (std::stoi(std::string(m)) != next) {
            ++out_of_order;
        }
        ++next;
        running.fetch_sub(1);
    });
    for (int i = 0; i < messages; ++i) {
        concert::DISABLE = i % 3 == 0;  // before, m2 ran inline before m1, while m1 ran
        dispatcher.send(&sender, std::to_string(i));
    }
    concert::DISABLE = was_disabled;
    dispatcher.flush();
    EXPECT_EQ(next, messages);
    EXPECT_EQ(out_of_order, 0);
    EXPECT_EQ(running, 0);
    EXPECT_EQ(overlaps, 0);
}

// Row: a handler whose value type does not match the value sent (or that wants one when none was).
TEST(BadInput, AHandlerWhoseValueTypeDoesNotMatchIsReportedNamingBothTypes) {
    reported_errors recorded;
    concert::Dispatcher dispatcher;
    int motor = 0;
    double received = 0;
    dispatcher.subscribe(&motor, "position", [](int*, const float&) {});
    dispatcher.subscribe(&motor, "position", [&](int*, const double& v) { received = v; });
    dispatcher.send(&motor, "position", 3.5);
    dispatcher.send(&motor, "position");
    dispatcher.flush();
    EXPECT_EQ(received, 3.5);  // the matching handler still ran
    const auto errors = recorded.errors();
    ASSERT_EQ(errors.size(), 3U);
    EXPECT_TRUE(contains(errors[0].first,
                         "takes a value of type float, but the message carries "
                         "a double"));
    EXPECT_TRUE(contains(errors[0].second, "the handler of message \"position\""));
    EXPECT_TRUE(contains(errors[1].first, "type float, but the message was sent without a value"));
    EXPECT_TRUE(contains(errors[2].first, "type double, but the message was sent without a value"));
    try {
        std::rethrow_exception(recorded.last());
    } catch (const concert::message_value_mismatch& e) {
        EXPECT_TRUE(contains(e.what(), "double"));
    }
}

// Row: wait_idle() from one of the pool's own tasks.
TEST(BadInput, WaitIdleFromThePoolsOwnTaskIsLogicError) {
    concert::thread_pool pool{1};
    auto attempt = pool.submit([&pool] { pool.wait_idle(); });
    if (concert::async_disabled()) {
        EXPECT_NO_THROW(attempt.wait());  // inline, the caller is no worker: nothing to wait for
        return;
    }
    try {
        attempt.wait();
        FAIL() << "wait_idle() from a worker did not throw";
    } catch (const std::logic_error& e) {
        EXPECT_TRUE(contains(e.what(), "wait_idle"));
    }
}

// Row: concert::wait with a future that has no state among running ones.
TEST(BadInput, WaitWithAFutureWithoutStateThrowsOnlyAfterTheOthersFinished) {
    std::atomic<bool> finished{false};
    concert::future<void> none;
    auto running = concert::submit([&finished] { finished = true; });
    EXPECT_THROW(concert::wait(running, none), concert::invalid_future);
    EXPECT_TRUE(finished);
}

// Row: misusing a promise.
TEST(BadInput, APromiseSetTwiceMovedFromOrGivenANullExceptionIsAClearError) {
    concert::promise<int> p;
    p.set_value(1);
    EXPECT_THROW(p.set_value(2), std::future_error);
    EXPECT_THROW(p.set_exception(std::make_exception_ptr(std::runtime_error("late"))),
                 std::future_error);
    EXPECT_THROW(p.set_exception(nullptr), std::invalid_argument);
    EXPECT_EQ(p.get_future().result(), 1);
    auto moved = std::move(p);
    EXPECT_THROW(p.get_future(), std::future_error);  // NOLINT(bugprone-use-after-move)
    concert::future<int> orphan;
    {
        concert::promise<int> dropped;
        orphan = dropped.get_future();
    }
    EXPECT_THROW(orphan.result(), concert::broken_promise);
}

// Row: composing futures without state, or nothing.
TEST(BadInput, ComposingAFutureWithoutStateIsInvalidFutureAndWhenAnyOfNothingInvalidArgument) {
    concert::future<int> none;
    auto ok = concert::submit([] { return 1; });
    EXPECT_THROW(concert::when_all(ok, none), concert::invalid_future);
    EXPECT_THROW(concert::when_any(none, ok), concert::invalid_future);
    EXPECT_THROW(concert::when_any(std::vector<concert::future<int>>{}), std::invalid_argument);
    EXPECT_THROW(none.then([](int x) { return x; }), concert::invalid_future);
    EXPECT_THROW(none.cancel(), concert::invalid_future);
    EXPECT_EQ(ok.result(), 1);
}

// Row: moving a move-only value out of a future that others share.
TEST(BadInput, MovingASharedMoveOnlyValueOutIsInvalidFutureAndLeavesItReadable) {
    auto f = concert::submit([] { return std::make_unique<int>(3); });
    auto other = f;
    EXPECT_THROW(static_cast<void>(std::move(f).result()), concert::invalid_future);
    EXPECT_EQ(*other.result(), 3);
}

}  // namespace
