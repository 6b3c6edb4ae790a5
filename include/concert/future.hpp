// concert::future<T>: the result of a task, with Concert's extensions (done, wait that rethrows and
// returns the future, result), convertible to and from the standard futures; concert::wait over
// many futures.
#pragma once

#include <chrono>
#include <concepts>
#include <future>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include "detail/arities.hpp"
#include "detail/shared_state.hpp"
#include "disable.hpp"
#include "errors.hpp"
#include "origin.hpp"

namespace concert {

CONCERT_POOL_ABI_BEGIN
class thread_pool;
CONCERT_POOL_ABI_END

namespace detail {

using steady_time = std::chrono::steady_clock::time_point;

// Blocks until `state` finishes or `deadline` (null: none) passes; true if it finished. A worker
// of the pool that queued the state runs it itself when it has not started and there is no
// deadline; any other wait spins briefly, then sleeps inside a blocking_scope until the completion
// itself wakes it. Never runs anything else.
CONCERT_API bool await(state_base& state, const steady_time* deadline);

// The deadline `timeout` from now; none (wait forever) for a duration too long to represent, such
// as duration::max().
template <class Rep, class Period>
std::optional<steady_time> deadline_after(const std::chrono::duration<Rep, Period>& timeout) {
    const auto now = std::chrono::steady_clock::now();
    if (timeout <= timeout.zero()) {
        return now;
    }
    // In floating point, so that no conversion overflows; half the clock's range is centuries.
    const std::chrono::duration<double> left = steady_time::max() - now;
    if (std::chrono::duration<double>(timeout) >= left / 2) {
        return std::nullopt;
    }
    return now + std::chrono::ceil<std::chrono::steady_clock::duration>(timeout);
}

template <class Clock, class Duration>
std::optional<steady_time> deadline_at(const std::chrono::time_point<Clock, Duration>& when) {
    const auto now = Clock::now();
    if (when <= now) {
        return std::chrono::steady_clock::now();
    }
    if (when == std::chrono::time_point<Clock, Duration>::max()) {
        return std::nullopt;
    }
    return deadline_after(when - now);
}

[[noreturn]] CONCERT_API void throw_invalid_future(const char* operation);

struct future_access;

// Queues a continuation's task: on `pool` if given; else on the pool `owner` identifies (see
// state_base::owner) while it lives, or the default pool; inline, one at a time and without
// recursion, when async is disabled. `finished` is the input that just finished (its most derived
// object): when that is the task the calling worker is completing and the pool has nothing
// queued, the worker runs the continuation next itself, waking nobody. Throws
// concert::pool_stopped as submit does.
CONCERT_API void schedule_continuation(task* t, const void* owner, thread_pool* pool,
                                       const void* finished);

}  // namespace detail

/// The outcome of a task: a value (or reference, or nothing for void) or an exception. Copies share
/// one state. Thread-safe: any number of threads may wait on and read copies of one future (each
/// thread its own copy, or the same one through const members).
template <class T>
class future {
  public:
    /// The type of the task's result.
    using value_type = T;

    /// A future with no state: valid() is false, and every other member throws
    /// concert::invalid_future.
    future() noexcept = default;

    /// Adopts a standard future: done and ready when it is (a deferred one counts as ready, and
    /// waiting runs it). An invalid standard future gives a future with no state. Its origin is
    /// where the conversion happens.
    future(std::shared_future<T> standard,  // NOLINT(google-explicit-constructor): interop
           CONCERT_DETAIL_CALL_SITE)
        : state_(standard.valid() ? new detail::adopted_state<T>(std::move(standard)) : nullptr) {
        if (state_ != nullptr) {
            state_->set_origin({{}, where});
            state_->attach_future();
        }
    }
    /// Adopts a standard future, as from a shared one.
    future(std::future<T>&& standard,  // NOLINT(google-explicit-constructor): interop
           CONCERT_DETAIL_CALL_SITE)
        : future(standard.valid() ? standard.share() : std::shared_future<T>{}, where) {}

    /// Another future of the same state.
    future(const future& other) noexcept : state_(other.state_) {
        if (state_ != nullptr) {
            state_->attach_future();
        }
    }
    /// Takes over the state; `other` has none afterwards.
    future(future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    /// Shares `other`'s state instead of its own.
    future& operator=(future other) noexcept {
        std::swap(state_, other.state_);
        return *this;
    }
    ~future() {
        if (state_ != nullptr) {
            state_->detach_future();
        }
    }

    /// A standard shared future of the same outcome, for code written for the standard (made on the
    /// first request, and the same one after); empty for a future with no state. The value is
    /// copied into it, so T must be copyable.
    operator std::shared_future<T>() const {  // NOLINT(google-explicit-constructor): interop
        return shared();
    }
    /// The same as the conversion to std::shared_future.
    std::shared_future<T> shared() const {
        return state_ != nullptr ? state_->standard() : std::shared_future<T>{};
    }

    /// False for a default-constructed or moved-from future.
    bool valid() const noexcept { return state_ != nullptr; }

    /// Where the task was submitted, and its wrapper's name (see concert::task_origin). Never
    /// blocks; throws only concert::invalid_future for a future with no state. Thread-safe.
    task_origin origin() const {
        require_state("origin");
        return state_->origin();
    }

    /// True once the task finished, with a value or an exception. Never blocks.
    bool done() const {
        require_state("done");
        return state_->finished() || (state_->adopted() && state_->adopted_ready());
    }

    /// Blocks until the task finished and rethrows its exception (the original object), so that
    /// `f.wait().result()` reads naturally. On a temporary it returns the future by value, so that
    /// `const auto& f = submit(g).wait();` does not dangle.
    const future& wait() const& {
        require_state("wait");
        block(nullptr);
        static_cast<void>(state_->result());
        return *this;
    }
    /// wait() on a temporary: returns the future by value.
    future wait() && {
        static_cast<const future&>(*this).wait();
        return std::move(*this);
    }

    /// Blocks until the task finished, without rethrowing its exception.
    const future& wait_done() const& {
        require_state("wait_done");
        block(nullptr);
        return *this;
    }
    /// wait_done() on a temporary: returns the future by value.
    future wait_done() && {
        static_cast<const future&>(*this).wait_done();
        return std::move(*this);
    }

    /// Blocks, then gives the task's value (const T& for values, T& for references), or rethrows
    /// its exception; may be called any number of times.
    detail::result_ref_t<T> result() const& {
        require_state("result");
        block(nullptr);
        return state_->result();
    }

    /// std::move(f).result(): blocks, then moves the value out when `f` is the only reader of its
    /// state (no other future, no continuation, no standard future made from it), so move-only
    /// values (a camera frame in a unique_ptr) can be taken; `f` has no state afterwards. Otherwise
    /// a copyable value is copied, and a move-only one is concert::invalid_future, naming why.
    /// Rethrows the task's exception.
    decltype(auto) result() && {
        if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
            return static_cast<const future&>(*this).result();
        } else {
            require_state("result");
            block(nullptr);
            if (state_->sole_reader()) {
                const future taken = std::move(*this);
                return T(taken.state_->take());
            }
            if constexpr (std::is_copy_constructible_v<T>) {
                return T(state_->result());
            } else {
                static_cast<void>(state_->result());  // a failure rethrows first
                throw invalid_future(
                    "concert::future::result() on an rvalue: the value cannot be moved out while "
                    "other futures or continuations share it, and it cannot be copied");
            }
        }
    }

    /// Cancels the task. Not started yet (a queued task, a continuation waiting for its input, a
    /// promise's future not set): it never runs, wait() and result() throw concert::cancelled, and
    /// its continuations see concert::cancelled; returns true. Running: if its callable takes a
    /// std::stop_token, a stop is requested, and the task decides its outcome; returns false.
    /// Finished: does nothing, returns false. Thread-safe; throws only concert::invalid_future for
    /// a future with no state.
    bool cancel() const {
        require_state("cancel");
        return state_->cancel();
    }

    /// Runs g(value) (g() for future<void>) once this future has finished, and returns the future
    /// of its result; if g returns a `concert::future<U>`, the result is that future's outcome, as
    /// a `future<U>`. No thread blocks meanwhile. g runs on the pool that ran this task (the
    /// default pool for a promise's or a standard future's), or on `pool`; inline on the finishing
    /// thread's turn when async is disabled. If this future failed (or was cancelled), g is skipped
    /// and the exception propagates. g is decay-copied. Thread-safe.
    /// The continuation's origin is the then() call.
    template <class G>
    auto then(G&& g, CONCERT_DETAIL_CALL_SITE) const;
    /// then(g), with g run on `pool` (which must outlive the call).
    template <class G>
    auto then(thread_pool& pool, G&& g, CONCERT_DETAIL_CALL_SITE) const;

    /// Bounded waits: true once the task finished, false at the deadline, within a small margin of
    /// it whatever the pool has queued. A duration too long to represent (duration::max()) means
    /// forever. They do not rethrow; wait() or result() do.
    template <class Rep, class Period>
    bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
        require_state("wait_for");
        return block_until(detail::deadline_after(timeout));
    }

    /// As wait_for, with a deadline of any clock.
    template <class Clock, class Duration>
    bool wait_until(const std::chrono::time_point<Clock, Duration>& when) const {
        require_state("wait_until");
        return block_until(detail::deadline_at(when));
    }

  private:
    friend struct detail::future_access;
    // then(g) and then(pool, g): g queued on `pool`, or null for the input's pool.
    template <class G>
    auto then_on(thread_pool* pool, G&& g, concert::source_location where) const;

    explicit future(detail::shared_state<T>* state) noexcept : state_(state) {
        state_->attach_future();
    }

    void require_state(const char* operation) const {
        if (state_ == nullptr) {
            detail::throw_invalid_future(operation);
        }
    }

    bool block(const detail::steady_time* deadline) const {
        return state_->finished() || detail::await(*state_, deadline);
    }

    bool block_until(const std::optional<detail::steady_time>& deadline) const {
        return block(deadline ? &*deadline : nullptr);
    }

    detail::shared_state<T>* state_ = nullptr;
};

namespace detail {
struct future_access {
    // A future sharing `state`.
    template <class T>
    static future<T> adopt(shared_state<T>* state) noexcept {
        return future<T>(state);
    }
    template <class T>
    static shared_state<T>* state_of(const future<T>& f) noexcept {
        return f.state_;
    }
};
}  // namespace detail

/// True for concert::future<T>.
template <class T>
inline constexpr bool is_future_v = false;
/// True for concert::future<T>.
template <class T>
inline constexpr bool is_future_v<future<T>> = true;

/// Satisfied by concert::future<T> (with any cv-ref qualification).
template <class F>
concept any_future = is_future_v<std::remove_cvref_t<F>>;

/// Waits for every future, then rethrows the first exception in argument order (a future with no
/// state counts as concert::invalid_future at its place). Never returns or throws before every task
/// has finished, so tasks that write to the caller's locals are done with them.
template <any_future... Futures>
void wait(const Futures&... futures) {
    (static_cast<void>(futures.valid() && (futures.wait_done(), true)), ...);
    (static_cast<void>(futures.wait()), ...);
}

/// concert::wait over a range of futures (a forward range: it is gone through twice).
template <std::ranges::input_range Range>
requires any_future<std::ranges::range_reference_t<Range>>
void wait(Range&& futures) {
    for (const auto& f : futures) {
        if (f.valid()) {
            f.wait_done();
        }
    }
    for (const auto& f : futures) {
        f.wait();
    }
}

}  // namespace concert

#include "detail/continuations.hpp"
