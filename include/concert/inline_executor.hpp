// The DISABLE path: an executor that runs each call at once on the caller's thread and returns a
// finished future, holding the value or the exception exactly as a pool would.
#pragma once

#include <utility>

#include "detail/arities.hpp"
#include "detail/shared_state.hpp"
#include "detail/task.hpp"
#include "future.hpp"
#include "origin.hpp"

namespace concert {

/// Runs every call inline. Its members are static and thread-safe; they throw only what copying
/// the callable or allocating the state throws (the call's own exception lands in the future).
class inline_executor {
  public:
#if defined(CONCERT_DOXYGEN)
    /// Runs f(args...) now and returns its finished future (up to six arguments; `where` is its
    /// origin).
    template <class F, class... Args>
    static future<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args,
                                                            CONCERT_DETAIL_CALL_SITE);

    /// Runs f(args...) now; its exception goes to concert's error handler, naming `where`.
    template <class F, class... Args>
    static void post(F&& f, Args&&... args, CONCERT_DETAIL_CALL_SITE);
#else
#define CONCERT_DETAIL_INLINE_CALLS(TP, TY, PA, AR)                                 \
    template <class F CONCERT_DETAIL_LIST TP>                                       \
    static future<detail::call_result_t<F CONCERT_DETAIL_LIST TY>> submit(          \
        F&& f CONCERT_DETAIL_LIST PA, CONCERT_DETAIL_CALL_SITE) {                   \
        return submit_from({{}, where}, std::forward<F>(f) CONCERT_DETAIL_LIST AR); \
    }                                                                               \
    template <class F CONCERT_DETAIL_LIST TP>                                       \
    static void post(F&& f CONCERT_DETAIL_LIST PA, CONCERT_DETAIL_CALL_SITE) {      \
        post_from({{}, where}, std::forward<F>(f) CONCERT_DETAIL_LIST AR);          \
    }
    CONCERT_DETAIL_EACH_ARITY(CONCERT_DETAIL_INLINE_CALLS)
#undef CONCERT_DETAIL_INLINE_CALLS
#endif

    /// submit with an origin given by the caller (any number of arguments): for executors and
    /// wrappers that record their own callers' origins.
    template <class F, class... Args>
    static future<detail::call_result_t<F, Args...>> submit_from(const task_origin& origin, F&& f,
                                                                 Args&&... args) {
        using result_type = detail::call_result_t<F, Args...>;
        using call_type =
            decltype(detail::bind_any_call(std::forward<F>(f), std::forward<Args>(args)...));
        // Finished before anyone could cancel it: a token, if wanted, that never stops.
        auto* state = new detail::task_state<result_type, call_type>(
            detail::bind_any_call(std::forward<F>(f), std::forward<Args>(args)...), nullptr, 0);
        state->set_origin(origin);
        auto result = detail::future_access::adopt<result_type>(state);
        static_cast<void>(state->try_start());
        state->run_started();
        return result;
    }

    /// post with an origin given by the caller (any number of arguments).
    template <class F, class... Args>
    static void post_from(const task_origin& origin, F&& f, Args&&... args) {
        auto call = detail::bind_any_call(std::forward<F>(f), std::forward<Args>(args)...);
        detail::run_detached(call, origin);
    }
};

}  // namespace concert
