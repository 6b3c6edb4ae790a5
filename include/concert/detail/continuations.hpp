// What runs when a state finishes: future::then's continuation (a state of its own that is queued
// on a pool once its input finished), the forwarding of an unwrapped inner future, and the states
// behind when_all and when_any. The tail of future.hpp, which includes it at its end (so it does
// not include future.hpp back).
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "shared_state.hpp"

namespace concert {

namespace detail {

template <class R>
struct unwrapped {
    using type = R;
    static constexpr bool is_future = false;
};
template <class V>
struct unwrapped<future<V>> {
    using type = V;
    static constexpr bool is_future = true;
};

// What g returns when called with the outcome of a future<T>.
template <class T, class G>
struct then_call {
    using type = std::invoke_result_t<G&, result_ref_t<T>>;
};
template <class G>
struct then_call<void, G> {
    using type = std::invoke_result_t<G&>;
};
template <class T, class G>
using then_call_t = typename then_call<T, G>::type;

template <class T, class G>
using then_value_t = typename unwrapped<std::remove_cvref_t<then_call_t<T, G>>>::type;

// Adopted standard futures finish only when somebody looks: a task of the default pool waits for
// one, so that its continuations fire. (The one case where a thread blocks for a continuation.)
template <class T>
void ensure_completion(const future<T>& f);
CONCERT_API void wait_in_background(state_base* adopted);

// Completes `target` with the outcome of `inner` once that finishes: how then() unwraps a g that
// returns a future. Holds a reference to `target` and the inner future itself.
template <class V>
class forwarder final : public continuation {
  public:
    forwarder(value_state<V>* target, future<V> inner) : target_(target), inner_(std::move(inner)) {
        target_->add_ref();
    }

    // The target was taken when its continuation started running.
    void fire() noexcept override {
        try {
            if constexpr (std::is_void_v<V>) {
                inner_.result();
                target_->complete_value();
            } else if constexpr (std::is_reference_v<V>) {
                target_->complete_value(std::addressof(inner_.result()));
            } else {
                target_->complete_value(std::move(inner_).result());
            }
        } catch (...) {
            target_->complete_exception(std::current_exception());
        }
        target_->release();
        delete this;
    }

    void abandon() noexcept override {
        target_->complete_exception(std::make_exception_ptr(
            broken_promise("concert::future::then: the returned future was destroyed unfinished")));
        target_->release();
        delete this;
    }

  private:
    value_state<V>* target_;
    future<V> inner_;
};

// The state of f.then(g): it waits in f's continuation list, is queued as a task when f finishes,
// and runs g with f's outcome. Its internal reference passes from the list to the queue.
template <class T, class G>
class then_state final : public value_state<then_value_t<T, G>>, public task, public continuation {
  public:
    using value_type = then_value_t<T, G>;

    then_state(G&& g, const void* input_owner, thread_pool* pool)
        : value_state<value_type>(1), g_(std::move(g)), input_owner_(input_owner), pool_(pool) {}

    // Binds the input; the caller then adds this state as its continuation.
    void follow(shared_state<T>* input) noexcept { input_ = input; }

    // The input finished: keep it alive until g ran, and queue this.
    void fire() noexcept override {
        input_->add_ref();
        try {
            schedule_continuation(this, input_owner_, pool_, dynamic_cast<const void*>(input_));
        } catch (...) {
            // No pool would take it: the continuation fails with why.
            if (this->try_start()) {
                g_.reset();
                this->set_exception(std::current_exception());
            }
            drop();
        }
    }

    // The input was destroyed unfinished (it cannot be, while a future or promise holds it).
    void abandon() noexcept override {
        this->publish_exception(std::make_exception_ptr(
            broken_promise("concert::future::then: the input was destroyed unfinished")));
        state_base::release();
    }

    bool start() noexcept override { return this->try_start(); }
    void run_and_drop() noexcept override {
        run_started();
        drop();
    }
    void drop() noexcept override {
        std::exchange(input_, nullptr)->release();
        state_base::release();
    }

    void run_started() noexcept override {
        using call_type = std::remove_cvref_t<then_call_t<T, G>>;
        const auto release_g = [this]() noexcept { g_.reset(); };
        try {
            input_->mark_observed();
            auto call = [this]() -> call_type {
                if constexpr (std::is_void_v<T>) {
                    input_->result();  // rethrows the input's failure
                    return std::invoke(*g_);
                } else {
                    return std::invoke(*g_, input_->result());
                }
            };
            if constexpr (unwrapped<call_type>::is_future) {
                future<value_type> inner = call();
                release_g();
                if (!inner.valid()) {
                    throw invalid_future(
                        "concert::future::then: the continuation returned a "
                        "future with no state");
                }
                auto* link = new forwarder<value_type>(this, inner);
                ensure_completion(inner);
                if (!future_access::state_of(inner)->add_continuation(link)) {
                    link->fire();
                }
            } else {
                this->set_from(call, release_g);
            }
        } catch (...) {
            release_g();
            this->set_exception(std::current_exception());
        }
    }

  protected:
    void abandon_call() noexcept override {
        g_.reset();
        state_base::abandon_call();
    }

  private:
    std::optional<G> g_;
    shared_state<T>* input_ = nullptr;
    const void* input_owner_;
    thread_pool* pool_;
};

// when_all (V = void: the first failure in argument order, once every input finished) and when_any
// (V = std::size_t: the index of the first input to finish). One continuation per input, kept in
// the state itself, each holding a reference to it until its input finished.
template <class V>
class combined_state final : public value_state<V> {
  public:
    explicit combined_state(std::size_t inputs)
        : value_state<V>(static_cast<std::uint32_t>(inputs)),
          remaining_(inputs),
          arrivals_(inputs) {}

    // Adds every input's continuation; call once, with the states in argument order.
    void follow(const std::vector<state_base*>& inputs) {
        if (inputs.empty()) {
            this->publish_value();  // when_all of nothing has nothing to wait for
            return;
        }
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            arrivals_[i].owner = this;
            arrivals_[i].input = inputs[i];
            arrivals_[i].index = i;
        }
        for (auto& a : arrivals_) {
            if (!a.input->add_continuation(&a)) {
                a.fire();
            }
        }
    }

  private:
    struct arrival final : continuation {
        combined_state* owner = nullptr;
        state_base* input = nullptr;
        std::size_t index = 0;
        void fire() noexcept override { owner->arrive(index, input->failure()); }
        void abandon() noexcept override {
            owner->arrive(index,
                          std::make_exception_ptr(broken_promise(
                              "concert::when_all/when_any: an input was destroyed unfinished")));
        }
    };

    // Releases the input's reference last: the state (and this arrival) may go with it.
    void arrive(std::size_t index, std::exception_ptr failure) noexcept {
        arrivals_[index].input->mark_observed();
        if constexpr (std::is_void_v<V>) {
            if (failure) {
                const std::lock_guard lock(failure_mutex_);
                if (index < first_failed_) {
                    first_failed_ = index;
                    first_failure_ = failure;
                }
            }
            if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                if (first_failure_) {
                    this->publish_exception(first_failure_);
                } else {
                    this->publish_value();
                }
            }
        } else {
            this->publish_value(index);  // the first arrival wins; the others find it taken
        }
        state_base::release();
    }

    std::atomic<std::size_t> remaining_;
    std::vector<arrival> arrivals_;
    std::mutex failure_mutex_;
    std::size_t first_failed_ = static_cast<std::size_t>(-1);  // guarded by failure_mutex_
    std::exception_ptr first_failure_;                         // guarded by failure_mutex_
};

template <class F>
void add_input(std::vector<state_base*>& states, const F& f, const char* operation) {
    if (!f.valid()) {
        throw invalid_future(std::string(operation) + ": one of the futures has no state");
    }
    ensure_completion(f);
    states.push_back(future_access::state_of(f));
}

template <class V>
future<V> combine(const std::vector<state_base*>& states, const task_origin& origin) {
    auto* s = new combined_state<V>(states.size());
    s->set_origin(origin);
    auto result = future_access::adopt<V>(s);
    s->follow(states);
    return result;
}

template <class T>
void ensure_completion(const future<T>& f) {
    auto* s = future_access::state_of(f);
    if (s->adopted() && !f.done()) {
        wait_in_background(s);
    }
}

}  // namespace detail

template <class T>
template <class G>
auto future<T>::then(G&& g, concert::source_location where) const {
    return then_on(nullptr, std::forward<G>(g), where);
}

template <class T>
template <class G>
auto future<T>::then(thread_pool& pool, G&& g, concert::source_location where) const {
    return then_on(&pool, std::forward<G>(g), where);
}

template <class T>
template <class G>
auto future<T>::then_on(thread_pool* pool, G&& g, concert::source_location where) const {
    require_state("then");
    using state_type = detail::then_state<T, std::decay_t<G>>;
    auto* s = new state_type(std::forward<G>(g), state_->owner(), pool);
    s->set_origin({{}, where});
    auto result = detail::future_access::adopt<typename state_type::value_type>(s);
    s->follow(state_);
    detail::ensure_completion(*this);
    if (!state_->add_continuation(s)) {
        s->fire();
    }
    return result;
}

// A future that finishes once every input has finished, without blocking anybody: the non-blocking
// twin of concert::wait. It carries the first exception in argument order. A future with no state
// among the inputs is concert::invalid_future, thrown at once. Its origin is named
// "concert::when_all" (with the call's location for a range). Thread-safe.
template <any_future... Futures>
future<void> when_all(const Futures&... futures) {
    std::vector<detail::state_base*> states;
    states.reserve(sizeof...(futures));
    (detail::add_input(states, futures, "concert::when_all"), ...);
    return detail::combine<void>(states, {"concert::when_all", {}});
}

template <std::ranges::input_range Range>
requires any_future<std::ranges::range_reference_t<Range>> future<void> when_all(
    Range&& futures, CONCERT_DETAIL_CALL_SITE) {
    std::vector<detail::state_base*> states;
    for (const auto& f : futures) {
        detail::add_input(states, f, "concert::when_all");
    }
    return detail::combine<void>(states, {"concert::when_all", where});
}

// A future of the index of the first input to finish, with a value or an exception. No inputs is
// std::invalid_argument; a future with no state among them is concert::invalid_future.
template <any_future... Futures>
requires(sizeof...(Futures) > 0) future<std::size_t> when_any(const Futures&... futures) {
    std::vector<detail::state_base*> states;
    states.reserve(sizeof...(futures));
    (detail::add_input(states, futures, "concert::when_any"), ...);
    return detail::combine<std::size_t>(states, {"concert::when_any", {}});
}

template <std::ranges::input_range Range>
requires any_future<std::ranges::range_reference_t<Range>> future<std::size_t> when_any(
    Range&& futures, CONCERT_DETAIL_CALL_SITE) {
    std::vector<detail::state_base*> states;
    for (const auto& f : futures) {
        detail::add_input(states, f, "concert::when_any");
    }
    if (states.empty()) {
        throw std::invalid_argument("concert::when_any: no futures to wait for");
    }
    return detail::combine<std::size_t>(states, {"concert::when_any", where});
}

}  // namespace concert
