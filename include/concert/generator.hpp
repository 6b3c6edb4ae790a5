// concert::generator<T>: the return type of a producer coroutine that co_yields items; a lazy,
// move-only input range, iterated once, whose iteration rethrows the producer's exception.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace concert {

/// The return type of a producer coroutine that `co_yield`s items of type T: a lazy, move-only
/// input range, iterated once, whose iteration rethrows the producer's exception.
///
/// Not thread-safe: one thread at a time iterates a generator, and the producer's body runs on
/// that thread.
template <class T>
class generator {
    static_assert(std::is_object_v<T> && std::is_same_v<T, std::remove_cv_t<T>>,
                  "concert::generator<T>: T is the item's type, not a reference or const type");

  public:
    class promise_type;
    class iterator;
    /// @cond
    /// The handle of the producer's frame, which the generator owns. Left out of the API
    /// reference, as promise_type is (its type names promise_type, which Sphinx could not resolve).
    using handle_type = std::coroutine_handle<promise_type>;
    /// @endcond

    class promise_type {
      public:
        generator get_return_object() noexcept {
            return generator{handle_type::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() noexcept { error_ = std::current_exception(); }

        // An rvalue is handed over where it is: it lives in the producer's frame until the
        // producer resumes, so the consumer may move from it.
        std::suspend_always yield_value(T&& item) noexcept {
            item_ = std::addressof(item);
            return {};
        }

        // Anything else (an lvalue the producer keeps using, a value of another type) is first
        // made into a T the consumer owns.
        template <class U>
        requires std::constructible_from<T, U>
        auto yield_value(U&& value) { return owned_item{T(std::forward<U>(value))}; }

        // A producer only yields: it has nothing to wait for.
        template <class U>
        void await_transform(U&&) = delete;

      private:
        friend class generator;
        friend class iterator;

        // Holds a made item in the frame while the producer is suspended.
        struct owned_item {
            T item;
            bool await_ready() const noexcept { return false; }
            void await_suspend(handle_type producer) noexcept {
                producer.promise().item_ = std::addressof(item);
            }
            void await_resume() const noexcept {}
        };

        void rethrow_if_failed() {
            if (error_) [[unlikely]] {
                std::rethrow_exception(std::exchange(error_, nullptr));
            }
        }

        T* item_ = nullptr;
        std::exception_ptr error_;
    };

    /// Reading `*it` gives the current item as an lvalue the reader may move from.
    ///
    /// An input iterator, compared with std::default_sentinel (end()). Not thread-safe, as the
    /// generator.
    class iterator {
      public:
        /// An input iterator: items are read once, in order.
        using iterator_concept = std::input_iterator_tag;
        /// The type of the items.
        using value_type = T;
        /// The type of a distance between iterators.
        using difference_type = std::ptrdiff_t;

        /// An iterator on no generator, equal to the end. Never throws.
        iterator() noexcept = default;

        /// The current item, as an lvalue the reader may move from. Only before the end. Never
        /// throws.
        T& operator*() const noexcept { return *producer_.promise().item_; }
        /// The address of the current item. Only before the end. Never throws.
        T* operator->() const noexcept { return producer_.promise().item_; }

        /// Resumes the producer to its next item, or to its end, and rethrows the exception it
        /// throws meanwhile. Past the end (or on a default-constructed iterator) it is
        /// std::logic_error: there is no producer left to resume.
        iterator& operator++() {
            if (!producer_ || producer_.done()) {
                throw std::logic_error("concert::generator: iterator incremented past the end");
            }
            advance(producer_);
            return *this;
        }
        /// As `++it` (an input iterator returns nothing from `it++`); throws as it does.
        void operator++(int) { ++*this; }

        /// True at the end: the producer finished (or threw), or the iterator is on no generator.
        /// Never throws.
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return !it.producer_ || it.producer_.done();
        }

      private:
        friend class generator;
        explicit iterator(handle_type producer) noexcept : producer_(producer) {}
        handle_type producer_;
    };

    /// Empty: begin() == end(). A moved-from generator is empty too, and not yet begun. Never
    /// throws.
    generator() noexcept = default;
    /// Takes over `other`'s producer and progress, leaving `other` empty and not yet begun. Never
    /// throws.
    generator(generator&& other) noexcept
        : producer_(std::exchange(other.producer_, nullptr)),
          begun_(std::exchange(other.begun_, false)) {}
    /// Destroys this generator's producer as the destructor does, then takes over `other`'s,
    /// leaving `other` empty and not yet begun. Never throws.
    generator& operator=(generator&& other) noexcept {
        if (this != &other) {
            destroy();
            producer_ = std::exchange(other.producer_, nullptr);
            begun_ = std::exchange(other.begun_, false);
        }
        return *this;
    }
    /// Destroys the producer where it is suspended (its locals are destroyed). Never throws.
    ~generator() { destroy(); }

    /// Runs the producer to its first item (rethrowing its exception, if it throws first).
    /// Iteration consumes the generator: a second begin() is std::logic_error, whatever the state
    /// (finished, part-read or failed), since it could only skip items or resume a finished
    /// coroutine. Not thread-safe.
    iterator begin() {
        if (begun_) {
            throw std::logic_error(
                "concert::generator::begin: called a second time; a generator is iterated once");
        }
        begun_ = true;
        if (producer_) {
            advance(producer_);
        }
        return iterator{producer_};
    }
    /// The end, std::default_sentinel, which an iterator equals once the producer has finished.
    /// Never throws.
    std::default_sentinel_t end() const noexcept { return {}; }

  private:
    explicit generator(handle_type producer) noexcept : producer_(producer) {}

    static void advance(handle_type producer) {
        producer.resume();
        producer.promise().rethrow_if_failed();
    }

    void destroy() noexcept {
        if (producer_) {
            producer_.destroy();
        }
    }

    handle_type producer_;
    bool begun_ = false;
};

}  // namespace concert
