// The DISABLE path: an executor that runs each call at once on the caller's thread and returns a
// finished future, holding the value or the exception exactly as a pool would.
#pragma once

#include <future>
#include <optional>
#include <utility>

#include "detail/task.hpp"
#include "future.hpp"

namespace concert {

class inline_executor {
  public:
    template <class F, class... Args>
    static future<detail::call_result_t<F, Args...>> submit(F&& f, Args&&... args) {
        using result_type = detail::call_result_t<F, Args...>;
        std::optional call{detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...)};
        std::promise<result_type> promise;
        future<result_type> result{promise.get_future()};
        detail::fulfil(promise, call);
        return result;
    }

    template <class F, class... Args>
    static void post(F&& f, Args&&... args) {
        auto call = detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...);
        detail::run_detached(call);
    }
};

}  // namespace concert
