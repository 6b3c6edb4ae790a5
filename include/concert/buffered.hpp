// concert::buffered(consumer, capacity): a stage that runs its consumer on a thread of its own
// behind a bounded queue, so production is not stalled by slow consumption (Concert's advice of
// buffering in a coroutine and consuming in another thread). Inline on the sender's thread under
// DISABLE.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "blocking.hpp"
#include "consumer.hpp"
#include "detail/event_count.hpp"
#include "disable.hpp"
#include "errors.hpp"

namespace concert {

namespace detail {

// Lets one thread sleep until another makes `ready()` true. The sleeper polls first, yielding
// between polls: the other side usually acts within microseconds, waking a sleeping thread costs
// two syscalls, and the yields let the other side run when both share a CPU (and stop a poller
// from stealing the cache line the other side writes). Then it parks on an event count, inside a
// blocking_scope, so that a pool task waiting on back-pressure hands its slot on. The notifier
// costs one load while nobody sleeps.
class wakeup {
  public:
    template <class Ready>
    void wait_until(Ready ready) {
        if (ready()) {
            return;
        }
        const auto until = std::chrono::steady_clock::now() + poll_budget;
        for (int polls = 1;; ++polls) {
            std::this_thread::yield();
            if (ready()) {
                return;
            }
            if (polls % polls_between_clock_reads == 0 &&
                std::chrono::steady_clock::now() >= until) {
                break;
            }
        }
        const blocking_scope blocking;
        for (;;) {
            const auto key = parked_.prepare_wait();
            if (ready()) {
                parked_.cancel_wait();
                return;
            }
            parked_.wait(key);
        }
    }

    // Call after a sequentially consistent store that may make the sleeper's condition true.
    void notify() noexcept { parked_.notify_one(); }

  private:
    static constexpr auto poll_budget = std::chrono::microseconds(50);
    static constexpr int polls_between_clock_reads = 16;

    event_count parked_;
};

// How a buffered stage runs its consumer; make_stage picks one.
template <class T>
class stage {
  public:
    stage() = default;
    stage(const stage&) = delete;
    stage& operator=(const stage&) = delete;
    virtual ~stage() = default;

    // Hands `item` to the consumer; throws the consumer's exception.
    virtual void push(T&& item) = 0;
    // True once the consumer failed, before anyone received the exception.
    virtual bool failed() const noexcept = 0;
    // Delivers everything queued, closes a consumer the stage took over, stops, and returns the
    // consumer's exception if nobody received it yet.
    virtual std::exception_ptr finish() noexcept = 0;
};

template <class T, class Stored>
class inline_stage final : public stage<T> {
  public:
    template <class C>
    inline_stage(std::in_place_t /*tag*/, C&& consumer) : consumer_(std::forward<C>(consumer)) {}

    void push(T&& item) override { deliver(consumer_, std::move(item)); }
    bool failed() const noexcept override { return false; }
    std::exception_ptr finish() noexcept override {
        try {
            close_if_owned<Stored>(consumer_);
        } catch (...) {
            return std::current_exception();
        }
        return nullptr;
    }

  private:
    Stored consumer_;
};

// A queue for one sender and the stage's thread: a chain of fixed-size segments. `head_` and
// `tail_` count items taken and put (they never wrap in practice), and `capacity_` bounds how far
// `tail_` may run ahead of `head_`. Memory follows what is queued, not the capacity: the sender
// links a new segment when the last one is full, and the stage's thread hands each segment it has
// emptied back for reuse, so a steady stream runs on two or three segments whatever the capacity.
template <class T, class Stored>
class threaded_stage final : public stage<T> {
  public:
    template <class C>
    threaded_stage(C&& consumer, std::size_t capacity)
        : consumer_(std::forward<C>(consumer)),
          capacity_(capacity),
          segment_size_(std::clamp(std::bit_ceil(capacity), min_segment, max_segment)),
          write_segment_(new segment(segment_size_)),
          read_segment_(write_segment_),
          thread_([this] { run(); }) {}

    ~threaded_stage() override {
        // finish() joined the thread: every segment is the destructor's now.
        free_chain(read_segment_);
        free_chain(spare_);
        free_chain(returned_.load(std::memory_order_acquire));
    }

    void push(T&& item) override {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        // The fast path reads only the sender's own copy of head_, not the line the stage's thread
        // writes; a failure is seen at the latest when the queue fills or at close().
        if (tail - head_seen_ >= capacity_ || failed_.load(std::memory_order_relaxed)) {
            space_.wait_until([&] {
                head_seen_ = head_.load();
                return tail - head_seen_ < capacity_ || failed_.load();
            });
            if (failed_.load()) {
                error_received_ = true;
                std::rethrow_exception(error_);
            }
        }
        if (write_index_ == segment_size_) {
            segment* next = take_segment();
            // Published by the tail_ store below, which the stage's thread reads before `next`.
            write_segment_->next.store(next, std::memory_order_release);
            write_segment_ = next;
            write_index_ = 0;
        }
        write_segment_->slots[write_index_++].emplace(std::move(item));
        tail_.store(tail + 1);
        items_.notify();
    }

    bool failed() const noexcept override { return failed_.load() && !error_received_; }

    std::exception_ptr finish() noexcept override {
        closed_.store(true);
        items_.notify();
        {
            const blocking_scope blocking;
            thread_.join();
        }
        return error_received_ ? nullptr : error_;
    }

  private:
    // Segments of 64 to 1024 slots: small capacities get one segment's worth of room, large ones
    // grow a segment at a time.
    static constexpr std::size_t min_segment = 64;
    static constexpr std::size_t max_segment = 1024;

    struct segment {
        explicit segment(std::size_t size) : slots(std::make_unique<std::optional<T>[]>(size)) {}
        std::unique_ptr<std::optional<T>[]> slots;
        std::atomic<segment*> next{nullptr};  // the following segment, or the next spare
    };

    static void free_chain(segment* s) noexcept {
        while (s != nullptr) {
            delete std::exchange(s, s->next.load(std::memory_order_relaxed));
        }
    }

    // The sender's: a segment the stage's thread handed back, or a new one.
    segment* take_segment() {
        if (spare_ == nullptr) {
            spare_ = returned_.exchange(nullptr, std::memory_order_acquire);
        }
        if (spare_ == nullptr) {
            return new segment(segment_size_);
        }
        segment* s = std::exchange(spare_, spare_->next.load(std::memory_order_relaxed));
        s->next.store(nullptr, std::memory_order_relaxed);
        return s;
    }

    // The stage's thread: hands an emptied segment back to the sender.
    void give_back(segment* s) noexcept {
        segment* head = returned_.load(std::memory_order_relaxed);
        do {
            s->next.store(head, std::memory_order_relaxed);
        } while (!returned_.compare_exchange_weak(head, s, std::memory_order_release,
                                                  std::memory_order_relaxed));
    }

    // The stage's thread: takes items in order and hands them to the consumer until closed.
    void run() noexcept {
        try {
            std::size_t head = 0;
            std::size_t read_index = 0;
            for (;;) {
                items_.wait_until([&] { return tail_.load() != head || closed_.load(); });
                const std::size_t tail = tail_.load();
                if (tail == head) {
                    break;
                }
                while (head != tail) {
                    if (read_index == segment_size_) {
                        segment* next = read_segment_->next.load(std::memory_order_acquire);
                        give_back(std::exchange(read_segment_, next));
                        read_index = 0;
                    }
                    std::optional<T>& slot = read_segment_->slots[read_index++];
                    T item = std::move(*slot);
                    slot.reset();
                    // The slot is free before the consumer runs, so the sender keeps going.
                    head_.store(++head);
                    space_.notify();
                    deliver(consumer_, std::move(item));
                }
            }
            close_if_owned<Stored>(consumer_);
        } catch (...) {
            error_ = std::current_exception();
            failed_.store(true);
            space_.notify();
        }
    }

    Stored consumer_;
    const std::size_t capacity_;
    const std::size_t segment_size_;
    // Written by the stage's thread and by the sender; apart, so they do not share a cache line.
    alignas(64) std::atomic<std::size_t> head_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};
    std::atomic<bool> closed_{false};
    std::atomic<bool> failed_{false};
    std::exception_ptr error_;                 // set by the stage's thread before failed_
    bool error_received_ = false;              // the sender's: a send rethrew error_
    std::size_t head_seen_ = 0;                // the sender's: head_ when it last looked
    segment* write_segment_;                   // the sender's
    std::size_t write_index_ = 0;              // the sender's
    segment* spare_ = nullptr;                 // the sender's: handed back, not yet reused
    segment* read_segment_;                    // the stage's thread's
    std::atomic<segment*> returned_{nullptr};  // handed back by the stage's thread
    wakeup items_;                             // the stage's thread waits here for items
    wakeup space_;                             // the sender waits here for a free slot
    std::thread thread_;                       // last: it starts once everything else is built
};

inline constexpr std::size_t max_buffer_capacity = std::size_t{1} << 30;

// The one place that decides where a buffered consumer runs: on a thread of its own, or inline on
// the sender's thread when async is disabled.
template <class T, class Stored, class C>
std::unique_ptr<stage<T>> make_stage(C&& consumer, std::size_t capacity) {
    if (capacity == 0 || capacity > max_buffer_capacity) {
        throw std::invalid_argument("concert::buffered: capacity " + std::to_string(capacity) +
                                    " is not from 1 to " + std::to_string(max_buffer_capacity));
    }
    if (async_disabled()) {
        return std::make_unique<inline_stage<T, Stored>>(std::in_place, std::forward<C>(consumer));
    }
    return std::make_unique<threaded_stage<T, Stored>>(std::forward<C>(consumer), capacity);
}

}  // namespace detail

/// The consumer of a buffered stage (made by concert::buffered). send() returns at once unless the
/// queue is full, then it waits (back-pressure: nothing is dropped). Closing delivers everything
/// queued and joins the thread. One thread sends at a time, as with any consumer: not thread-safe,
/// though its consumer runs on the stage's own thread (inline on the sender's under DISABLE).
template <class T>
class buffered_stage {
  public:
    /// The type of the items it takes.
    using item_type = T;

    /// Made by concert::buffered, which picks `Stored`: a reference to a consumer the caller keeps,
    /// or the consumer's type when the stage takes it over. Throws std::invalid_argument for a
    /// capacity not from 1 to 2^30, std::system_error if the thread cannot start, std::bad_alloc,
    /// and what storing the consumer throws.
    template <class Stored, class C>
    buffered_stage(std::in_place_type_t<Stored> /*how*/, C&& consumer, std::size_t capacity)
        : stage_(detail::make_stage<T, Stored>(std::forward<C>(consumer), capacity)) {}

    /// Takes over `other`'s stage, leaving `other` closed. Never throws.
    buffered_stage(buffered_stage&& other) noexcept = default;
    /// Closes this stage as the destructor does, then takes over `other`'s. Never throws.
    buffered_stage& operator=(buffered_stage&& other) noexcept {
        if (this != &other) {
            finish_and_report();
            stage_ = std::move(other.stage_);
            failed_ = other.failed_;
        }
        return *this;
    }
    /// Closes the stage; the consumer's exception, which a destructor cannot throw, goes to
    /// concert's error handler. Call close() to receive it instead. Never throws.
    ~buffered_stage() { finish_and_report(); }

    /// Queues `item` for the consumer. Rethrows the consumer's exception if it failed meanwhile
    /// (the stage is then finished); throws concert::consumer_finished after that or after close().
    void send(T&& item) { push(std::move(item)); }
    /// Queues a copy of `item`, as send(T&&) does; also throws what copying it throws.
    void send(const T& item) requires std::copy_constructible<T> { push(T(item)); }

    /// True once the stage was closed or its consumer failed. Never throws.
    bool done() const noexcept { return !stage_ || failed_ || stage_->failed(); }

    /// Delivers everything queued, joins the thread, and rethrows the consumer's exception if it
    /// failed and no send() rethrew it. Closing again does nothing.
    void close() {
        if (!stage_) {
            return;
        }
        if (const std::exception_ptr error = std::exchange(stage_, nullptr)->finish()) {
            std::rethrow_exception(error);
        }
    }

  private:
    void push(T&& item) {
        if (!stage_ || failed_) {
            throw consumer_finished(
                "concert::buffered_stage::send: the stage was closed, or its consumer failed");
        }
        try {
            stage_->push(std::move(item));
        } catch (...) {
            failed_ = true;
            throw;
        }
    }

    void finish_and_report() noexcept {
        if (!stage_) {
            return;
        }
        if (const std::exception_ptr error = std::exchange(stage_, nullptr)->finish()) {
            report_error(error, "the consumer of a buffered stage destroyed without close()");
        }
    }

    std::unique_ptr<detail::stage<T>> stage_;
    bool failed_ = false;
};

/// Runs `consumer` behind a queue of `capacity` items (from 1 to 2^30; else std::invalid_argument).
/// The item type is `T` when given, else the one the consumer tells (see consumer_item_t). Also
/// throws std::system_error if the stage's thread cannot start, std::bad_alloc, and what storing
/// the consumer throws; thread-safe (the stage it returns is used by one thread at a time).
template <class T = void, class C>
requires detail::item_known<T, C> && consumer_of<C, detail::chosen_item_t<T, C>>
    buffered_stage<detail::chosen_item_t<T, C>> buffered(C&& consumer, std::size_t capacity) {
    using item = detail::chosen_item_t<T, C>;
    return buffered_stage<item>(std::in_place_type<detail::stored_consumer_t<C&&>>,
                                std::forward<C>(consumer), capacity);
}

}  // namespace concert
