// The state a concert::future shares with whoever completes it: a phase word (pending, running,
// finished, plus "someone sleeps on it"), a reference count, the value or exception, and the
// continuations to run when it finishes. A submitted task is one allocation: task_state holds the
// call, the state and the value together, and is also the node the pool queues.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "../blocking.hpp"
#include "event_count.hpp"
#include "task.hpp"

namespace concert::detail {

// Something to do once when a state finishes: fire() then, or drop() if the state is destroyed
// unfinished. Both consume the node.
class continuation {
  public:
    continuation() = default;
    continuation(const continuation&) = delete;
    continuation& operator=(const continuation&) = delete;

    virtual void fire() noexcept = 0;
    virtual void drop() noexcept = 0;

    continuation* next = nullptr;

  protected:
    ~continuation() = default;
};

class state_base {
  public:
    state_base(const state_base&) = delete;
    state_base& operator=(const state_base&) = delete;

    bool finished() const noexcept { return phase(status_.load()) == phase_finished; }

    // Takes the pending call for the caller, who must then run it (run_started). False when it
    // has started already or there is no call.
    bool try_start() noexcept {
        auto s = status_.load(std::memory_order_relaxed);
        while (phase(s) == phase_pending) {
            if (status_.compare_exchange_weak(s, (s & ~phase_mask) | phase_running)) {
                return true;
            }
        }
        return false;
    }

    // Runs the call taken with try_start and publishes its outcome.
    virtual void run_started() noexcept {}

    // The pool that queued this state's call, so that a worker of that pool waiting for it may run
    // it itself while it has not started; null for states without a queued call.
    const void* owner() const noexcept { return owner_; }

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
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

    // Meaningful once finished.
    const std::exception_ptr& error() const noexcept { return error_; }

  protected:
    state_base(std::uint32_t refs, const void* owner, bool adopted) noexcept
        : refs_(refs), owner_(owner), adopted_(adopted) {}

    virtual ~state_base() {
        auto* c = continuations_.load(std::memory_order_acquire);
        while (c != nullptr && c != closed()) {
            std::exchange(c, c->next)->drop();
        }
    }

    // Publishes the outcome: wakes the sleepers, then fires the continuations in the order they
    // were added. The caller holds a reference, so the state outlives this call.
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

    std::atomic<std::uint32_t> status_{phase_pending};
    std::atomic<std::uint32_t> refs_;
    std::atomic<continuation*> continuations_{nullptr};
    const void* const owner_;
    const bool adopted_;
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
    // The outcome, once finished: the value, or the exception rethrown.
    result_ref_t<T> result() const {
        if (adopted()) [[unlikely]] {
            return adopted_result();
        }
        if (error_) {
            std::rethrow_exception(error_);
        }
        if constexpr (std::is_reference_v<T>) {
            return *storage_.value;
        } else if constexpr (!std::is_void_v<T>) {
            return storage_.value;
        }
    }

    // A standard shared future of the same outcome, made on the first request and kept.
    std::shared_future<T> standard();

  protected:
    shared_state(std::uint32_t refs, const void* owner, bool adopted = false) noexcept
        : state_base(refs, owner, adopted) {}

    ~shared_state() override {
        if (has_value_) {
            storage_.value.~stored();
        }
        delete standard_.load(std::memory_order_acquire);
    }

    // Called once, by whoever runs the call.
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

    virtual result_ref_t<T> adopted_result() const {
        throw std::logic_error("concert: not an adopted future");
    }
    virtual std::shared_future<T> adopted_standard() const { return {}; }

  private:
    using stored = typename stored_as<T>::type;
    class bridge;

    // Constructed only by set_value.
    union storage {
        storage() noexcept {}
        ~storage() {}
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
    void drop() noexcept override { delete this; }

  private:
    ~bridge() = default;
    shared_state* state_;
};

template <class T>
std::shared_future<T> shared_state<T>::standard() {
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
        link->drop();
        return *expected;
    }
    std::shared_future<T> result = *made.release();
    if (!add_continuation(link)) {
        link->fire();
    }
    return result;
}

// A submitted call and its future's state in one allocation; the pool queues it as a task. It
// starts with a reference for the queue and one for the future.
template <class T, class Call>
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

    // The call (and what it captured) is destroyed before the outcome is published, so a waiter
    // never races with its destructors.
    void run_started() noexcept override {
        try {
            if constexpr (std::is_void_v<T>) {
                (*call_)();
                call_.reset();
                this->set_value();
            } else if constexpr (std::is_reference_v<T>) {
                T value = (*call_)();
                call_.reset();
                this->set_value(std::addressof(value));
            } else {
                T value = (*call_)();
                call_.reset();
                this->set_value(std::move(value));
            }
        } catch (...) {
            call_.reset();
            this->set_exception(std::current_exception());
        }
    }

  private:
    std::optional<Call> call_;
};

// A standard future adopted by a concert::future: finished when it is ready (a deferred one counts
// as ready: reading it runs it), read through it.
template <class T>
class adopted_state final : public shared_state<T> {
  public:
    explicit adopted_state(std::shared_future<T> standard)
        : shared_state<T>(1, nullptr, true), standard_(std::move(standard)) {}

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

}  // namespace concert::detail
