// concert::promise<T>: completes concert::futures from outside any pool, such as a device SDK's
// callback or a Tango reply.
#pragma once

#include <exception>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include "detail/shared_state.hpp"
#include "future.hpp"

namespace concert {

/// The writing end of a future's state. Move-only. get_future() may be called any number of
/// times; every future it returns shares the one outcome. set_value and set_exception publish it
/// once: a second time (or after the future was cancelled) they throw std::future_error
/// (promise_already_satisfied), and on a moved-from promise std::future_error (no_state). A promise
/// destroyed unset makes its futures throw concert::broken_promise. Thread-safe: different threads
/// may call get_future, set_value and the futures' members at once.
template <class T>
class promise {
  public:
    /// A promise with a fresh state, whose futures' origin is where it was made; throws
    /// std::bad_alloc.
    promise(CONCERT_DETAIL_CALL_SITE)  // NOLINT(google-explicit-constructor): the default one
        : state_(new detail::value_state<T>(1)) {
        state_->set_origin({{}, where});
    }

    /// Takes over the state; `other` has none afterwards.
    promise(promise&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    /// Breaks this promise's own state if unset, then takes over `other`'s.
    promise& operator=(promise&& other) noexcept {
        promise(std::move(other)).swap(*this);
        return *this;
    }
    promise(const promise&) = delete;
    promise& operator=(const promise&) = delete;

    /// Breaks the promise if it was not set: its futures then throw concert::broken_promise.
    ~promise() {
        if (state_ != nullptr) {
            const bool read = state_->has_readers();
            if (state_->publish_exception(std::make_exception_ptr(broken_promise(
                    "concert::promise destroyed without a value or an exception"))) &&
                !read) {
                state_->mark_observed();  // nobody to tell: not worth a report
            }
            state_->release();
        }
    }

    /// A future of the promised outcome.
    future<T> get_future() const { return detail::future_access::adopt<T>(require_state()); }

    /// Publishes the value (constructed from `args`; for promise<T&> the reference, for
    /// promise<void> nothing). Wakes the waiters and fires the continuations on this thread's turn.
    /// Throws std::future_error (promise_already_satisfied) if the outcome is set already.
    template <class... Args>
    void set_value(Args&&... args) {
        if (!try_set_value(std::forward<Args>(args)...)) {
            throw std::future_error(std::future_errc::promise_already_satisfied);
        }
    }

    /// Publishes the exception `error` (a null one is std::invalid_argument). Throws
    /// std::future_error (promise_already_satisfied) if the outcome is set already.
    void set_exception(std::exception_ptr error) {
        if (!try_set_exception(std::move(error))) {
            throw std::future_error(std::future_errc::promise_already_satisfied);
        }
    }

    /// As set_value, but returns false instead of throwing when the outcome is set already: for a
    /// producer racing with its future's cancel(), such as a device's reply arriving after the
    /// operator aborted. The value is made first, so a throwing constructor leaves the promise
    /// unset.
    template <class... Args>
    bool try_set_value(Args&&... args) {
        if constexpr (std::is_reference_v<T>) {
            static_assert(sizeof...(Args) == 1, "promise<T&>::set_value takes one T&");
            return require_state()->publish_value(std::addressof(args)...);
        } else {
            return require_state()->publish_value(std::forward<Args>(args)...);
        }
    }

    /// As set_exception, but returns false instead of throwing when the outcome is set already.
    /// A null `error` is std::invalid_argument.
    bool try_set_exception(std::exception_ptr error) {
        if (!error) {
            throw std::invalid_argument("concert::promise::set_exception: a null exception_ptr");
        }
        return require_state()->publish_exception(std::move(error));
    }

    /// True once the outcome is set: by this promise, or by a future's cancel(). A producer may
    /// poll it to stop work nobody waits for any more. Throws std::future_error (no_state) on a
    /// moved-from promise.
    bool settled() const { return require_state()->taken(); }

    /// Exchanges the states of two promises.
    void swap(promise& other) noexcept { std::swap(state_, other.state_); }

  private:
    detail::value_state<T>* require_state() const {
        if (state_ == nullptr) {
            throw std::future_error(std::future_errc::no_state);
        }
        return state_;
    }

    detail::value_state<T>* state_;
};

}  // namespace concert
