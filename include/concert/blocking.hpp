// concert::blocking_scope: tells the pool running the current task that the task is about to block
// (a device SDK call, a condition variable wait), so that the pool lets a spare thread run queued
// work in its place. Every blocking wait of the library itself (futures, buffered stages, the
// dispatcher's flush and wait) is made inside one.
#pragma once

namespace concert {

namespace detail {

// What a pool does when one of its tasks blocks and when it resumes.
class blocking_hooks {
  public:
    virtual ~blocking_hooks() = default;
    virtual void begin_blocking() noexcept = 0;
    virtual void end_blocking() noexcept = 0;
};

// Set by a pool while its thread runs a task, null everywhere else (and inside a blocking_scope).
// Header-only so that the coroutine pipes need no library; one instance across shared objects.
#if defined(__GNUC__)
[[gnu::visibility("default")]]
#endif
inline thread_local blocking_hooks* current_blocking_hooks = nullptr;

}  // namespace detail

/// An RAII guard around a call that blocks. Inside a pool's task, the pool hands the task's place
/// to another thread for as long as the scope lasts: queued work keeps running, and the number of
/// threads taking queued work stays at the pool's size. When the scope ends the task goes on at
/// once (briefly one thread over the pool's size, until some task finishes). Anywhere else (a
/// thread of no pool, or a scope nested in another) it does nothing and costs one thread-local
/// read. Never throws. Not copyable; use it on the thread that created it.
class blocking_scope {
  public:
    /// Begins the scope: tells the current thread's pool, if any, that the task blocks. Never
    /// throws.
    blocking_scope() noexcept : hooks_(detail::current_blocking_hooks) {
        if (hooks_ != nullptr) {
            detail::current_blocking_hooks = nullptr;
            hooks_->begin_blocking();
        }
    }

    /// Ends the scope: the task goes on as one of the pool's again. Never throws.
    ~blocking_scope() {
        if (hooks_ != nullptr) {
            hooks_->end_blocking();
            detail::current_blocking_hooks = hooks_;
        }
    }

    ///@{
    /// Not copyable.
    blocking_scope(const blocking_scope&) = delete;
    blocking_scope& operator=(const blocking_scope&) = delete;
    ///@}

  private:
    detail::blocking_hooks* hooks_;
};

}  // namespace concert
