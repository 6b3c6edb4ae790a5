// concert::coroutine<T>: the return type of a primed consumer coroutine, which takes items with
// `co_await concert::receive` and is fed with send().
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "errors.hpp"

namespace concert {

/// `T item = co_await concert::receive;` in a `concert::coroutine<T>` waits for the next item (the
/// C++ spelling of Python's `item = yield`). The wait throws only what moving the item throws; a
/// closed consumer waiting here is destroyed where it waits.
struct receive_t {
    /// Makes the tag; use the constant concert::receive. Never throws; thread-safe.
    explicit constexpr receive_t() noexcept = default;
};
/// The tag to `co_await` for the next item (see receive_t). A constant: thread-safe.
inline constexpr receive_t receive{};

/// `std::optional<T> item = co_await concert::receive_or_end;` also learns of the end of the
/// input: it gives std::nullopt once the consumer is closed, so the consumer can finish its work
/// (flush a result, close what it feeds) and rethrow what that raises. The wait throws only what
/// moving the item throws.
struct receive_or_end_t {
    /// Makes the tag; use the constant concert::receive_or_end. Never throws; thread-safe.
    explicit constexpr receive_or_end_t() noexcept = default;
};
/// The tag to `co_await` for the next item or the end of the input (see receive_or_end_t). A
/// constant: thread-safe.
inline constexpr receive_or_end_t receive_or_end{};

/// The return type of a primed consumer coroutine, which takes items with
/// `co_await concert::receive` (or concert::receive_or_end) and is fed with send().
///
/// Move-only. Not thread-safe: one thread at a time sends to it or closes it, as with any consumer,
/// and the consumer's body runs on that thread.
template <class T>
class coroutine {
    static_assert(std::is_object_v<T> && std::is_same_v<T, std::remove_cv_t<T>>,
                  "concert::coroutine<T>: T is the item's type, not a reference or const type");

  public:
    /// The type of the items it takes.
    using item_type = T;
    class promise_type;
    /// @cond
    /// The handle of the coroutine's frame, which the coroutine owns. Left out of the API
    /// reference, as promise_type is (its type names promise_type, which Sphinx could not resolve).
    using handle_type = std::coroutine_handle<promise_type>;
    /// @endcond

    class promise_type {
      public:
        coroutine get_return_object() noexcept {
            return coroutine{handle_type::from_promise(*this)};
        }
        // Primed: creating the coroutine runs its body up to the first receive.
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        // Kept for send() or close() to rethrow, so an exception raised before the first receive
        // (while the coroutine is created) surfaces at the first send.
        void unhandled_exception() noexcept { error_ = std::current_exception(); }

        auto await_transform(receive_t /*tag*/) noexcept {
            accepts_end_ = false;
            return item_awaiter{*this};
        }
        auto await_transform(receive_or_end_t /*tag*/) noexcept {
            accepts_end_ = true;
            return optional_item_awaiter{*this};
        }

      private:
        friend class coroutine;

        struct item_awaiter {
            promise_type& promise;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> /*consumer*/) const noexcept {}
            T await_resume() const { return std::move(*promise.incoming_); }
        };

        struct optional_item_awaiter {
            promise_type& promise;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> /*consumer*/) const noexcept {}
            std::optional<T> await_resume() const {
                if (promise.incoming_ == nullptr) {
                    return std::nullopt;
                }
                return std::optional<T>(std::move(*promise.incoming_));
            }
        };

        // The item being sent, owned by send()'s caller; null when the input ended.
        T* incoming_ = nullptr;
        // The consumer waits in receive_or_end, so closing resumes it rather than destroying it.
        bool accepts_end_ = false;
        std::exception_ptr error_;
    };

    /// An empty coroutine, already done(): send() throws concert::consumer_finished. Never throws.
    coroutine() noexcept = default;
    /// Takes over `other`'s consumer, leaving `other` empty. Never throws.
    coroutine(coroutine&& other) noexcept : consumer_(std::exchange(other.consumer_, nullptr)) {}
    /// Destroys this consumer as the destructor does, then takes over `other`'s, leaving `other`
    /// empty. Never throws.
    coroutine& operator=(coroutine&& other) noexcept {
        if (this != &other) {
            release();
            consumer_ = std::exchange(other.consumer_, nullptr);
        }
        return *this;
    }
    /// Destroys the consumer where it waits (its locals are destroyed). An exception it raised that
    /// nobody received goes to concert's error handler. Never throws.
    ~coroutine() { release(); }

    /// Resumes the consumer with `item` and returns once it waits for the next one. The consumer's
    /// exception propagates from here, and the consumer is then finished. Sending to a finished,
    /// closed or moved-from consumer throws concert::consumer_finished.
    void send(T&& item) { resume_with(std::addressof(item)); }
    /// Sends a copy of `item`, as send(T&&) does; also throws what copying it throws.
    void send(const T& item) requires std::copy_constructible<T> {
        T copy(item);
        resume_with(std::addressof(copy));
    }

    /// True once the consumer returned, threw, or was closed or moved from. Never throws.
    bool done() const noexcept { return !consumer_ || consumer_.done(); }

    /// Ends the input, as Python's close(): a consumer waiting in receive_or_end gets std::nullopt
    /// and runs on; one waiting in receive is destroyed where it waits. Rethrows an exception the
    /// consumer raised that nobody received. Closing again does nothing.
    void close() {
        if (!consumer_) {
            return;
        }
        auto& promise = consumer_.promise();
        if (!consumer_.done() && promise.accepts_end_) {
            promise.incoming_ = nullptr;
            consumer_.resume();
        }
        const std::exception_ptr error = std::exchange(promise.error_, nullptr);
        std::exchange(consumer_, nullptr).destroy();
        if (error) {
            std::rethrow_exception(error);
        }
    }

  private:
    explicit coroutine(handle_type consumer) noexcept : consumer_(consumer) {}

    void resume_with(T* item) {
        if (done()) [[unlikely]] {
            refuse();
        }
        auto& promise = consumer_.promise();
        promise.incoming_ = item;
        consumer_.resume();
        if (promise.error_) [[unlikely]] {
            std::rethrow_exception(std::exchange(promise.error_, nullptr));
        }
    }

    // A send the consumer cannot take: it failed while being created (that exception is thrown
    // now), or it is gone.
    [[noreturn]] void refuse() {
        if (!consumer_) {
            throw consumer_finished(
                "concert::coroutine::send: the consumer was closed or moved from");
        }
        if (auto error = std::exchange(consumer_.promise().error_, nullptr)) {
            std::rethrow_exception(error);
        }
        throw consumer_finished(
            "concert::coroutine::send: the consumer has finished (it returned or threw)");
    }

    void release() noexcept {
        if (!consumer_) {
            return;
        }
        if (auto error = consumer_.promise().error_) {
            report_error(error, "a consumer coroutine destroyed before its exception was received");
        }
        std::exchange(consumer_, nullptr).destroy();
    }

    handle_type consumer_;
};

}  // namespace concert
