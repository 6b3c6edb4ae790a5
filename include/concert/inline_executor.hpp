// The DISABLE path: an executor that runs each call at once on the caller's thread and returns a
// finished future, holding the value or the exception exactly as a pool would.
#pragma once

#include <utility>

#include "detail/shared_state.hpp"
#include "detail/task.hpp"
#include "future.hpp"

namespace concert {

/// Runs every call inline. Its members are static and thread-safe; they throw only what copying
/// the callable or allocating the state throws (the call's own exception lands in the future).
class inline_executor {
  public:
    /// Runs f(args...) now and returns its finished future.
    template <class F, class... Args>
    static future<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args) {
        using result_type = detail::call_result_t<F, Args...>;
        using call_type =
            decltype(detail::bind_any_call(std::forward<F>(f), std::forward<Args>(args)...));
        // Finished before anyone could cancel it: a token, if wanted, that never stops.
        auto* state = new detail::task_state<result_type, call_type>(
            detail::bind_any_call(std::forward<F>(f), std::forward<Args>(args)...), nullptr, 0);
        auto result = detail::future_access::adopt<result_type>(state);
        static_cast<void>(state->try_start());
        state->run_started();
        return result;
    }

    /// Runs f(args...) now; its exception goes to concert's error handler.
    template <class F, class... Args>
    static void post(F&& f, Args&&... args) {
        auto call = detail::bind_any_call(std::forward<F>(f), std::forward<Args>(args)...);
        detail::run_detached(call);
    }
};

}  // namespace concert
