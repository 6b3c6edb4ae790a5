// libFuzzer target: reads its input as a sequence of operations on a pool and its futures, a
// dispatcher, a buffered stage and a consumer coroutine, and checks the library's invariants after
// each one. Any broken invariant aborts with a message (libFuzzer then saves the input).
// Byte 0 chooses inline mode (concert::DISABLE); then each operation is an opcode byte and an
// argument byte. The library has no cancellation, so there is no cancel operation.
#include <fmt/format.h>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <concert/concert.hpp>

namespace {

void check(bool holds, const char* invariant) {
    if (!holds) {
        fmt::print(stderr, "operations_fuzzer: invariant broken: {}\n", invariant);
        std::abort();
    }
}

struct fault {
    int id;
};

std::atomic<int> reported_errors{0};

// A future and what it must hold: `value`, or a thrown fault{value}.
struct pending {
    concert::future<int> result;
    int value;
    bool throws;
    mutable bool checked = false;  // read through result(): a failure is then observed
};

// One subscription and how many calls it must have had once the dispatcher is flushed.
struct subscribed {
    concert::subscription handle;
    std::shared_ptr<std::atomic<int>> calls;
    int sender;
    int message;  // -1: every message of the sender
    int expected_calls = 0;
    bool active = true;
};

constexpr int senders = 3;
constexpr int messages = 3;
constexpr const char* message_names[messages] = {"start", "stop", "frame"};
// An item that makes the buffered stage's consumer throw.
constexpr int poison = 255;

// A buffered stage into a consumer that records what it took and fails on the poison item.
struct stage_under_test {
    explicit stage_under_test(std::size_t capacity)
        : stage(concert::buffered<int>(
              [taken = received.get()](int item) {
                  if (item == poison) {
                      throw fault{item};
                  }
                  taken->push_back(item);
              },
              capacity)) {}

    std::unique_ptr<std::vector<int>> received = std::make_unique<std::vector<int>>();
    concert::buffered_stage<int> stage;
    std::vector<int> delivered_before_poison;  // what the consumer must have taken
    bool poisoned = false;
    int faults_seen = 0;
    bool refused = false;

    void send(int item) {
        if (item == poison) {
            poisoned = true;
        } else if (!poisoned) {
            delivered_before_poison.push_back(item);
        }
        try {
            stage.send(item);
            check(!refused, "a buffered stage took an item after refusing one");
        } catch (const fault&) {
            check(poisoned, "a buffered stage threw a fault that was never sent");
            check(!refused, "a buffered stage threw its fault after refusing");
            ++faults_seen;
        } catch (const concert::consumer_finished&) {
            check(poisoned && faults_seen == 1, "a buffered stage refused before its fault");
            refused = true;
        }
    }

    void close() {
        try {
            stage.close();
        } catch (const fault&) {
            ++faults_seen;
        }
        check(faults_seen == (poisoned ? 1 : 0),
              "a buffered stage's fault surfaced other than once");
        check(*received == delivered_before_poison, "a buffered stage lost or reordered items");
    }
};

// A consumer coroutine that takes `limit` items, then returns.
concert::coroutine<int> take(int limit, std::shared_ptr<int> taken) {
    for (int i = 0; i < limit; ++i) {
        const int item = co_await concert::receive;
        check(item == *taken, "a consumer coroutine received an item out of order");
        ++*taken;
    }
}

class session {
  public:
    void run(const std::uint8_t* data, std::size_t size) {
        for (std::size_t i = 0; i + 1 < size; i += 2) {
            apply(data[i], data[i + 1]);
        }
        finish();
    }

  private:
    void apply(std::uint8_t opcode, std::uint8_t argument) {
        const int arg = argument;
        switch (opcode % 15) {
            case 0:
                futures_.push_back({pool_->submit([arg] { return arg; }), arg, false});
                break;
            case 1:
                futures_.push_back(
                    {pool_->submit([arg]() -> int { throw fault{arg}; }), arg, true});
                break;
            case 2:  // a task that waits on a child task from inside the pool
                futures_.push_back({pool_->submit([this, arg] {
                                        return pool_->submit([arg] { return arg; }).result() + 1;
                                    }),
                                    arg + 1, false});
                break;
            case 3:
                if (!futures_.empty()) {
                    check_future(futures_[static_cast<std::size_t>(arg) % futures_.size()]);
                }
                break;
            case 4:  // drop a future unwaited: a failure nobody read is reported once
                if (!futures_.empty()) {
                    const auto dropped =
                        futures_.begin() + static_cast<std::ptrdiff_t>(
                                               static_cast<std::size_t>(arg) % futures_.size());
                    if (dropped->throws && !dropped->checked) {
                        ++unobserved_failures_;
                    }
                    futures_.erase(dropped);
                }
                break;
            case 5:
                pool_->post([this] { ++posted_ran_; });
                ++posted_;
                break;
            case 6:
                pool_->post([arg] { throw fault{arg}; });
                ++posted_throwing_;
                break;
            case 7:
                subscribe(arg);
                break;
            case 8:
                unsubscribe(arg);
                break;
            case 9:
                send(arg % senders, (arg / senders) % messages);
                break;
            case 10:
                flush_and_check();
                break;
            case 11:
                if (!stage_) {
                    stage_.emplace(static_cast<std::size_t>(arg % 4) + 1);
                } else {
                    stage_->send(arg);
                }
                break;
            case 12:
                if (stage_) {
                    stage_->close();
                    stage_.reset();
                }
                break;
            case 13:
                send_to_consumer(arg);
                break;
            default:
                if (consumer_) {
                    consumer_->close();
                    check(consumer_->done(), "a closed consumer coroutine is not done");
                    consumer_.reset();
                }
                break;
        }
    }

    static void check_future(const pending& p) {
        p.checked = true;
        check(p.result.wait_for(std::chrono::hours(1)), "a future did not finish");
        check(p.result.done(), "a finished future is not done");
        try {
            const int value = p.result.result();
            check(!p.throws && value == p.value, "a future holds the wrong value");
        } catch (const fault& f) {
            check(p.throws && f.id == p.value, "a future holds the wrong exception");
        }
    }

    // Subscriptions change only with nothing in flight, so every expected count is exact.
    void subscribe(int arg) {
        dispatcher_.flush();
        subscribed s;
        s.calls = std::make_shared<std::atomic<int>>(0);
        s.sender = arg % senders;
        s.message = (arg & 0x80) != 0 ? -1 : (arg / senders) % messages;
        const auto count = [calls = s.calls](const void*) { ++*calls; };
        const void* sender = &sender_objects_[s.sender];
        s.handle = s.message < 0 ? dispatcher_.subscribe(sender, concert::any_message, count)
                                 : dispatcher_.subscribe(sender, message_names[s.message], count);
        subscriptions_.push_back(std::move(s));
    }

    void unsubscribe(int arg) {
        if (subscriptions_.empty()) {
            return;
        }
        auto& s = subscriptions_[static_cast<std::size_t>(arg) % subscriptions_.size()];
        dispatcher_.flush();
        dispatcher_.unsubscribe(s.handle);
        if ((arg & 1) != 0) {
            dispatcher_.unsubscribe(s.handle);  // twice: does nothing
        }
        check(!s.handle.active(), "a subscription is active after unsubscribe");
        s.active = false;
    }

    void send(int sender, int message) {
        dispatcher_.send(&sender_objects_[sender], message_names[message]);
        for (auto& s : subscriptions_) {
            if (s.active && s.sender == sender && (s.message < 0 || s.message == message)) {
                ++s.expected_calls;
            }
        }
    }

    void flush_and_check() {
        dispatcher_.flush();
        for (const auto& s : subscriptions_) {
            check(s.calls->load() == s.expected_calls,
                  "a handler was called a wrong number of times");
        }
    }

    void send_to_consumer(int arg) {
        if (!consumer_) {
            consumer_limit_ = arg % 5 + 1;
            consumer_taken_ = std::make_shared<int>(0);
            consumer_.emplace(take(consumer_limit_, consumer_taken_));
            consumer_sent_ = 0;
            return;
        }
        try {
            consumer_->send(consumer_sent_);
            check(consumer_sent_ < consumer_limit_, "a finished consumer took an item");
            ++consumer_sent_;
        } catch (const concert::consumer_finished&) {
            check(consumer_sent_ == consumer_limit_, "an unfinished consumer refused an item");
        }
        check(*consumer_taken_ == consumer_sent_, "a consumer coroutine lost an item");
        check(consumer_->done() == (consumer_sent_ == consumer_limit_),
              "a consumer coroutine's done() is wrong");
    }

    void finish() {
        if (stage_) {
            stage_->close();
            stage_.reset();
        }
        consumer_.reset();
        flush_and_check();
        for (const auto& p : futures_) {
            check_future(p);
        }
        futures_.clear();
        pool_.reset();  // drains the queue: every posted task has run afterwards
        check(posted_ran_.load() == posted_, "a posted task was lost");
        check(reported_errors.load() - reports_baseline_ == posted_throwing_ + unobserved_failures_,
              "a posted task's or a dropped future's exception was lost or reported twice");
    }

    const int reports_baseline_ = reported_errors.load();
    std::optional<concert::thread_pool> pool_{std::in_place, 2};
    concert::Dispatcher dispatcher_;
    std::vector<pending> futures_;
    std::atomic<int> posted_ran_{0};
    int posted_ = 0;
    int posted_throwing_ = 0;
    int unobserved_failures_ = 0;
    int sender_objects_[senders] = {};
    std::vector<subscribed> subscriptions_;
    std::optional<stage_under_test> stage_;
    std::optional<concert::coroutine<int>> consumer_;
    std::shared_ptr<int> consumer_taken_;
    int consumer_limit_ = 0;
    int consumer_sent_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    concert::set_error_handler(
        [](std::exception_ptr /*error*/, std::string_view /*origin*/) { ++reported_errors; });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    concert::DISABLE.store((data[0] & 1) != 0);
    session().run(data + 1, size - 1);
    return 0;
}
