// concert::future<T>: a std::shared_future with Concert's extensions (done, wait that rethrows and
// returns the future, result), and concert::wait over many futures.
#pragma once

#include <chrono>
#include <concepts>
#include <future>
#include <ranges>
#include <type_traits>
#include <utility>

#include "errors.hpp"

namespace concert {

namespace detail {

// A type-erased "is it finished yet?" question about one future.
struct readiness {
    const void* self;
    bool (*ready)(const void* self) noexcept;
};

enum class await_outcome { ready, timeout, must_block };

// Waits cheaply before the caller blocks in the kernel. On a pool worker it runs the pool's queued
// tasks until `probe` is ready or the deadline passes (so nested waits cannot starve the pool);
// elsewhere it spins briefly and returns must_block if the future is still not ready.
CONCERT_API await_outcome await(readiness probe,
                                const std::chrono::steady_clock::time_point* deadline);

}  // namespace detail

template <class T>
class future {
  public:
    using value_type = T;

    future() noexcept = default;
    future(std::shared_future<T> state) noexcept : state_(std::move(state)) {}  // NOLINT: implicit
    future(std::future<T>&& state) noexcept : state_(state.share()) {}          // NOLINT: implicit

    // Interoperates with code written for the standard.
    operator std::shared_future<T>() const noexcept { return state_; }  // NOLINT: implicit
    const std::shared_future<T>& shared() const noexcept { return state_; }

    // False for a default-constructed or moved-from future.
    bool valid() const noexcept { return state_.valid(); }

    // True once the task finished, with a value or an exception.
    bool done() const {
        require_state("done");
        return is_ready();
    }

    // Blocks until the task finished and rethrows its exception (the original object), so that
    // `f.wait().result()` reads naturally.
    const future& wait() const {
        require_state("wait");
        block(nullptr);
        state_.get();
        return *this;
    }

    // Blocks until the task finished, without rethrowing its exception.
    const future& wait_done() const {
        require_state("wait_done");
        block(nullptr);
        return *this;
    }

    // The task's value (const T& for values, T& for references), rethrowing its exception; may be
    // called any number of times.
    decltype(auto) result() const {
        require_state("result");
        block(nullptr);
        return state_.get();
    }

    // Bounded waits: true once the task finished. They do not rethrow; wait() or result() do.
    template <class Rep, class Period>
    bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
        require_state("wait_for");
        const auto deadline = std::chrono::steady_clock::now() +
                              std::chrono::ceil<std::chrono::steady_clock::duration>(timeout);
        return block(&deadline);
    }

    template <class Clock, class Duration>
    bool wait_until(const std::chrono::time_point<Clock, Duration>& when) const {
        require_state("wait_until");
        const auto deadline =
            std::chrono::steady_clock::now() +
            std::chrono::ceil<std::chrono::steady_clock::duration>(when - Clock::now());
        return block(&deadline);
    }

  private:
    // A deferred state (from std::async(deferred)) counts as ready: waiting on it runs it.
    bool is_ready() const noexcept {
        return state_.wait_for(std::chrono::seconds(0)) != std::future_status::timeout;
    }

    void require_state(const char* operation) const {
        if (!state_.valid()) {
            throw_invalid(operation);
        }
    }

    [[noreturn]] static void throw_invalid(const char* operation);

    bool block(const std::chrono::steady_clock::time_point* deadline) const {
        if (is_ready()) {
            return true;
        }
        const detail::readiness probe{this, [](const void* self) noexcept {
                                          return static_cast<const future*>(self)->is_ready();
                                      }};
        switch (detail::await(probe, deadline)) {
            case detail::await_outcome::ready:
                return true;
            case detail::await_outcome::timeout:
                return false;
            case detail::await_outcome::must_block:
                break;
        }
        if (deadline == nullptr) {
            state_.wait();
            return true;
        }
        return state_.wait_until(*deadline) != std::future_status::timeout;
    }

    std::shared_future<T> state_;
};

namespace detail {
[[noreturn]] CONCERT_API void throw_invalid_future(const char* operation);
}  // namespace detail

template <class T>
void future<T>::throw_invalid(const char* operation) {
    detail::throw_invalid_future(operation);
}

template <class T>
inline constexpr bool is_future_v = false;
template <class T>
inline constexpr bool is_future_v<future<T>> = true;

template <class F>
concept any_future = is_future_v<std::remove_cvref_t<F>>;

// Waits for every future, then rethrows the first exception in argument order. Never returns
// (or throws) before every task has finished.
template <any_future... Futures>
void wait(const Futures&... futures) {
    (static_cast<void>(futures.wait_done()), ...);
    (static_cast<void>(futures.wait()), ...);
}

template <std::ranges::input_range Range>
requires any_future<std::ranges::range_reference_t<Range>>
void wait(Range&& futures) {
    for (const auto& f : futures) {
        f.wait_done();
    }
    for (const auto& f : futures) {
        f.wait();
    }
}

}  // namespace concert
