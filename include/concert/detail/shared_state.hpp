// The state a concert::future shares with whoever completes it: a phase word (pending, running,
// finished, plus "someone sleeps on it"), reference counts, the value or exception, and the
// continuations to run when it finishes. A submitted task is one allocation: task_state holds the
// call, the state and the value together, and is also the node the pool queues.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "../blocking.hpp"
#include "../errors.hpp"
#include "../origin.hpp"
#include "event_count.hpp"
#include "task.hpp"

namespace concert::detail {

// Something to do once when a state finishes: fire() then, or abandon() if the state is destroyed
// unfinished. Both consume the node.
class continuation {
  public:
    continuation() = default;
    continuation(const continuation&) = delete;
    continuation& operator=(const continuation&) = delete;

    virtual void fire() noexcept = 0;
    virtual void abandon() noexcept = 0;

    continuation* next = nullptr;

  protected:
    ~continuation() = default;
};

// Tells the pool `owner`, if it still exists, that one of its queued tasks was cancelled.
CONCERT_API void forget_queued(const void* owner) noexcept;

// Every publisher of an outcome first takes the state with try_start (a task's runner, a
// promise's setter, cancel(), a when_all's last input): so an outcome is published exactly once.
class state_base {
  public:
    // Public and virtual: release() deletes the most derived state.
    virtual ~state_base() {
        auto* c = continuations_.load(std::memory_order_acquire);
        while (c != nullptr && c != closed()) {
            std::exchange(c, c->next)->abandon();
        }
    }

    state_base(const state_base&) = delete;
    state_base& operator=(const state_base&) = delete;

    bool finished() const noexcept { return phase(status_.load()) == phase_finished; }
    // Taken by somebody (running, or finished): no other outcome can be published.
    bool taken() const noexcept { return phase(status_.load()) != phase_pending; }

    // Takes the pending state for the caller, who must then publish an outcome. False when it
    // has been taken already.
    bool try_start() noexcept {
        auto s = status_.load(std::memory_order_relaxed);
        while (phase(s) == phase_pending) {
            if (status_.compare_exchange_weak(s, (s & ~phase_mask) | phase_running)) {
                return true;
            }
        }
        return false;
    }

    // Runs the call taken with try_start and publishes its outcome (states with a call).
    virtual void run_started() noexcept {}

    // The pool that queued this state's call, so that a worker of that pool waiting for it may run
    // it itself while it has not started; null for states without a queued call.
    const void* owner() const noexcept { return owner_; }

    // Internal references (a queue, a promise, a continuation list); the futures together hold
    // one more.
    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            report_if_unobserved();
            delete this;
        }
    }

    // A future starts or stops sharing the state.
    void attach_future() noexcept {
        if (futures_.fetch_add(1, std::memory_order_relaxed) == 0) {
            add_ref();
        }
    }
    void detach_future() noexcept {
        if (futures_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            release();
        }
    }

    // True when the caller's future is the only reader of the value: no other future, no
    // continuation, no standard future made from it.
    bool sole_reader() const noexcept {
        return futures_.load(std::memory_order_acquire) == 1 &&
               !had_continuations_.load(std::memory_order_acquire) && !adopted_;
    }

    // A future or a continuation reads (or read) the outcome.
    bool has_readers() const noexcept {
        return futures_.load(std::memory_order_acquire) != 0 ||
               had_continuations_.load(std::memory_order_acquire);
    }

    // Somebody saw the outcome (wait, result, then, when_all, when_any): a failure is not reported.
    void mark_observed() const noexcept { observed_.store(true, std::memory_order_relaxed); }

    // Not started yet: it never runs, and finishes with concert::cancelled (true). Running: asks a
    // task that takes a std::stop_token to stop (false). Finished: nothing (false).
    bool cancel() noexcept {
        if (try_start()) {
            abandon_call();
            if (owner_ != nullptr) {
                forget_queued(owner_);
            }
            return true;
        }
        if (!finished()) {
            request_stop();
        }
        return false;
    }

    // Announces a sleeping waiter (finish() then wakes the parking slot); false if finished.
    bool mark_waiting() noexcept {
        auto s = status_.load();
        for (;;) {
            if (phase(s) == phase_finished) {
                return false;
            }
            if ((s & waiting_bit) != 0 || status_.compare_exchange_weak(s, s | waiting_bit)) {
                return true;
            }
        }
    }

    // Queues `c` to fire when the state finishes; false (keeping `c` the caller's) if it has.
    bool add_continuation(continuation* c) noexcept {
        had_continuations_.store(true, std::memory_order_release);
        auto* head = continuations_.load(std::memory_order_acquire);
        do {
            if (head == closed()) {
                return false;
            }
            c->next = head;
        } while (!continuations_.compare_exchange_weak(head, c, std::memory_order_acq_rel,
                                                       std::memory_order_acquire));
        return true;
    }

    // A state adopted from a standard future finishes when that future is ready: these ask it.
    bool adopted() const noexcept { return adopted_; }
    virtual bool adopted_ready() noexcept { return false; }
    virtual bool adopted_wait(const std::chrono::steady_clock::time_point* /*deadline*/) noexcept {
        return false;
    }

    // Once finished: the exception, or null.
    virtual std::exception_ptr failure() const noexcept { return error_; }

    // Where the state comes from; set by its maker before any other thread sees the state.
    const task_origin& origin() const noexcept { return origin_; }
    void set_origin(const task_origin& origin) noexcept { origin_ = origin; }

  protected:
    state_base(std::uint32_t refs, const void* owner, bool adopted) noexcept
        : refs_(refs), owner_(owner), adopted_(adopted) {}

    // Publishes the outcome: wakes the sleepers, then fires the continuations in the order they
    // were added. The caller took the state with try_start and holds a reference.
    void finish() noexcept {
        if ((status_.exchange(phase_finished) & waiting_bit) != 0) {
            parking_slot(this).notify_all();
        }
        continuation* reversed = continuations_.exchange(closed(), std::memory_order_acq_rel);
        continuation* in_order = nullptr;
        while (reversed != nullptr) {
            std::exchange(reversed, reversed->next)->next = std::exchange(in_order, reversed);
        }
        while (in_order != nullptr) {
            std::exchange(in_order, in_order->next)->fire();
        }
    }

    // cancel() took the state before its call started: drop the call, publish cancelled.
    virtual void abandon_call() noexcept {
        error_ = std::make_exception_ptr(concert::cancelled("concert: the task was cancelled"));
        finish();
    }

    virtual void request_stop() noexcept {}

    std::exception_ptr error_;

  private:
    static constexpr std::uint32_t phase_pending = 0;
    static constexpr std::uint32_t phase_running = 1;
    static constexpr std::uint32_t phase_finished = 2;
    static constexpr std::uint32_t phase_mask = 3;
    static constexpr std::uint32_t waiting_bit = 4;
    static constexpr std::uint32_t phase(std::uint32_t s) noexcept { return s & phase_mask; }

    // The list's end marker once finished: an address no continuation has.
    continuation* closed() noexcept { return reinterpret_cast<continuation*>(&continuations_); }

    // A failure nobody read goes to the error handler, once, when the last holder lets go
    // (whichever came last: the task failing or its last future going). A cancellation was asked
    // for, so it is no news.
    void report_if_unobserved() noexcept {
        if (!error_ || observed_.load(std::memory_order_relaxed)) {
            return;
        }
        try {
            std::rethrow_exception(error_);
        } catch (const concert::cancelled&) {
        } catch (...) {
            report_task_failure(error_, origin_, failure_kind::unobserved);
        }
    }

    std::atomic<std::uint32_t> status_{phase_pending};
    std::atomic<std::uint32_t> refs_;
    std::atomic<std::uint32_t> futures_{0};
    mutable std::atomic<bool> observed_{false};
    std::atomic<bool> had_continuations_{false};
    std::atomic<continuation*> continuations_{nullptr};
    const void* const owner_;
    const bool adopted_;
    task_origin origin_;
};

// How a state keeps a T: a reference as a pointer, void as nothing.
template <class T>
struct stored_as {
    using type = T;
};
template <class T>
struct stored_as<T&> {
    using type = T*;
};
struct no_value {};
template <>
struct stored_as<void> {
    using type = no_value;
};

// What future<T>::result() gives: const T& for values, T& for references, nothing for void.
template <class T>
struct result_ref {
    using type = const T&;
};
template <class T>
struct result_ref<T&> {
    using type = T&;
};
template <>
struct result_ref<void> {
    using type = void;
};
template <class T>
using result_ref_t = typename result_ref<T>::type;

template <class T>
class shared_state : public state_base {
  public:
    // The outcome, once finished: the value, or the exception rethrown (which counts as seen).
    result_ref_t<T> result() const {
        if (adopted()) [[unlikely]] {
            return adopted_result();
        }
        if (error_) {
            mark_observed();
            std::rethrow_exception(error_);
        }
        if constexpr (std::is_reference_v<T>) {
            return *storage_.value;
        } else if constexpr (!std::is_void_v<T>) {
            return storage_.value;
        }
    }

    // Moves the value out, or rethrows; only for the sole reader (see sole_reader).
    T take() requires(!std::is_void_v<T> && !std::is_reference_v<T>) {
        if (error_) {
            mark_observed();
            std::rethrow_exception(error_);
        }
        return std::move(storage_.value);
    }

    // A standard shared future of the same outcome, made on the first request and kept.
    std::shared_future<T> standard();

    ~shared_state() override {
        if (has_value_) {
            storage_.value.~stored();
        }
        delete standard_.load(std::memory_order_acquire);
    }

  protected:
    shared_state(std::uint32_t refs, const void* owner, bool adopted = false) noexcept
        : state_base(refs, owner, adopted) {}

    // Called once, by whoever took the state with try_start.
    template <class... Args>
    void set_value(Args&&... args) {
        ::new (static_cast<void*>(std::addressof(storage_.value)))
            stored(std::forward<Args>(args)...);
        has_value_ = true;
        finish();
    }

    void set_exception(std::exception_ptr e) noexcept {
        error_ = std::move(e);
        finish();
    }

    // Publishes what `call` returns or throws. `before_publishing` runs first either way (a task
    // destroys its callable there, so that no waiter races with its destructor).
    template <class Call, class Before>
    void set_from(Call&& call, Before&& before_publishing) noexcept {
        try {
            if constexpr (std::is_void_v<T>) {
                std::forward<Call>(call)();
                before_publishing();
                set_value();
            } else if constexpr (std::is_reference_v<T>) {
                T value = std::forward<Call>(call)();
                before_publishing();
                set_value(std::addressof(value));
            } else {
                T value = std::forward<Call>(call)();
                before_publishing();
                set_value(std::move(value));
            }
        } catch (...) {
            before_publishing();
            set_exception(std::current_exception());
        }
    }

    virtual result_ref_t<T> adopted_result() const {
        throw std::logic_error("concert: not an adopted future");
    }
    virtual std::shared_future<T> adopted_standard() const { return {}; }

  private:
    using stored = typename stored_as<T>::type;
    class bridge;

    // Constructed only by set_value.
    union storage {
        // Not defaulted: with a non-trivial T, a defaulted member would be deleted.
        storage() noexcept {}  // NOLINT(modernize-use-equals-default)
        ~storage() {}          // NOLINT(modernize-use-equals-default)
        stored value;
    };
    storage storage_;
    bool has_value_ = false;
    std::atomic<std::shared_future<T>*> standard_{nullptr};
};

// Completes a std::promise when the state finishes: how a pending concert::future becomes a
// std::shared_future.
template <class T>
class shared_state<T>::bridge final : public continuation {
  public:
    explicit bridge(shared_state* state) : state_(state) {}
    std::promise<T> promise;

    void fire() noexcept override {
        try {
            if (state_->error_) {
                promise.set_exception(state_->error_);
            } else if constexpr (std::is_void_v<T>) {
                promise.set_value();
            } else if constexpr (std::is_reference_v<T>) {
                promise.set_value(*state_->storage_.value);
            } else {
                promise.set_value(state_->storage_.value);
            }
        } catch (...) {
            promise.set_exception(std::current_exception());  // the value's copy threw
        }
        delete this;
    }
    void abandon() noexcept override { delete this; }

  private:
    shared_state* state_;
};

template <class T>
std::shared_future<T> shared_state<T>::standard() {
    mark_observed();  // the standard future carries the exception on
    if (adopted()) {
        return adopted_standard();
    }
    if (auto* made = standard_.load(std::memory_order_acquire)) {
        return *made;
    }
    auto* link = new bridge(this);
    auto made = std::make_unique<std::shared_future<T>>(link->promise.get_future().share());
    std::shared_future<T>* expected = nullptr;
    if (!standard_.compare_exchange_strong(expected, made.get(), std::memory_order_acq_rel)) {
        link->abandon();
        return *expected;
    }
    std::shared_future<T> result = *made.release();
    if (!add_continuation(link)) {
        link->fire();
    }
    return result;
}

// Where a task_state keeps its stop source: nowhere for calls that take no token.
template <bool Stoppable>
struct stop_slot {
    static std::stop_token token() noexcept { return {}; }
    static void request_stop() noexcept {}
};
template <>
struct stop_slot<true> {
    std::stop_source source;
    std::stop_token token() const noexcept { return source.get_token(); }
    void request_stop() noexcept { source.request_stop(); }
};

// A submitted call and its future's state in one allocation; the pool queues it as a task. It
// starts with one internal reference, the queue's (none when run inline at once).
template <class T, class Call, bool Stoppable = false>
class task_state final : public shared_state<T>, public task {
  public:
    task_state(Call&& call, const void* owner, std::uint32_t refs)
        : shared_state<T>(refs, owner), call_(std::move(call)) {}

    bool start() noexcept override { return this->try_start(); }
    void run_and_drop() noexcept override {
        run_started();
        drop();
    }
    void drop() noexcept override { state_base::release(); }

    void run_started() noexcept override {
        const auto invoke = [this]() -> decltype(auto) {
            if constexpr (std::is_invocable_v<Call&, std::stop_token>) {
                return (*call_)(stop_.token());  // one that never stops unless Stoppable
            } else {
                return (*call_)();
            }
        };
        this->set_from(invoke, [this]() noexcept { call_.reset(); });
    }

  protected:
    void abandon_call() noexcept override {
        call_.reset();
        state_base::abandon_call();
    }
    void request_stop() noexcept override { stop_.request_stop(); }

  private:
    std::optional<Call> call_;
    [[no_unique_address]] stop_slot<Stoppable> stop_;
};

// A standard future adopted by a concert::future: finished when it is ready (a deferred one counts
// as ready: reading it runs it), read through it.
template <class T>
class adopted_state final : public shared_state<T> {
  public:
    explicit adopted_state(std::shared_future<T> standard)
        : shared_state<T>(0, nullptr, true), standard_(std::move(standard)) {}

    bool adopted_ready() noexcept override {
        if (standard_.wait_for(std::chrono::seconds(0)) == std::future_status::timeout) {
            return false;
        }
        mark_finished();
        return true;
    }

    bool adopted_wait(const std::chrono::steady_clock::time_point* deadline) noexcept override {
        {
            const blocking_scope blocking;
            if (deadline == nullptr) {
                standard_.wait();
            } else if (standard_.wait_until(*deadline) == std::future_status::timeout) {
                return false;
            }
        }
        mark_finished();
        return true;
    }

    std::exception_ptr failure() const noexcept override {
        try {
            static_cast<void>(standard_.get());
        } catch (...) {
            return std::current_exception();
        }
        return nullptr;
    }

  private:
    void mark_finished() noexcept {
        if (this->try_start()) {
            this->finish();
        }
    }

    result_ref_t<T> adopted_result() const override { return standard_.get(); }
    std::shared_future<T> adopted_standard() const override { return standard_; }

    std::shared_future<T> standard_;
};

// The state behind a concert::promise, and behind when_all and when_any: no call, an outcome
// published from outside.
template <class T>
class value_state : public shared_state<T> {
  public:
    explicit value_state(std::uint32_t refs) noexcept : shared_state<T>(refs, nullptr) {}

    // False when the state was taken already (satisfied, or cancelled).
    // The value is made before the state is taken, so a throwing copy leaves it unsatisfied.
    template <class... Args>
    bool publish_value(Args&&... args) {
        std::optional<typename stored_as<T>::type> value;
        value.emplace(std::forward<Args>(args)...);
        if (!this->try_start()) {
            return false;
        }
        this->set_value(std::move(*value));
        return true;
    }

    bool publish_exception(std::exception_ptr e) noexcept {
        if (!this->try_start()) {
            return false;
        }
        this->set_exception(std::move(e));
        return true;
    }

    // For an outcome published later by whoever took the state already (then's unwrapping).
    template <class... Args>
    void complete_value(Args&&... args) {
        this->set_value(std::forward<Args>(args)...);
    }
    void complete_exception(std::exception_ptr e) noexcept { this->set_exception(std::move(e)); }
};

}  // namespace concert::detail
