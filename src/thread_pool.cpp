// The pool's scheduler. Three FIFO queues (one per priority) under one mutex, and `size` slots: a
// thread takes queued work only while it holds a slot, and holds it while its task runs. A task
// that blocks (blocking_scope) gives its slot up, and the pool makes sure an idle thread exists to
// take it, starting a spare if none is left; when the task resumes it goes on at once, over the
// size, and the next thread to finish a task gives its slot up instead of taking more work. So no
// thread ever runs a task on top of another one's stack, and a blocked task never holds back
// queued work. Idle threads spin for a short while before they sleep, at most `max_spinning` at
// once: a submit then costs no syscall while a spinner is around, and an idle pool sleeps.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include <concert/detail/event_count.hpp>
#include <concert/detail/spin.hpp>
#include <concert/thread_pool.hpp>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace concert {

namespace {

using clock = std::chrono::steady_clock;
using detail::spin_until;

// How long an idle thread polls the queue before sleeping, and how long a waiter polls a future
// before it sleeps. Waking a sleeping vCPU costs about 20 us, so polling a little longer than that
// keeps back-to-back work off the slow path.
constexpr auto worker_spin = std::chrono::microseconds(100);
constexpr auto waiter_spin = std::chrono::microseconds(50);

void name_this_thread(std::size_t index) {
#if defined(__linux__)
    const auto name = fmt::format("concert-{}", index);
    pthread_setname_np(pthread_self(), name.c_str());
#else
    static_cast<void>(index);
#endif
}

struct fifo {
    detail::task* head = nullptr;
    detail::task* tail = nullptr;
};

void run_inline(detail::task* t) noexcept;

}  // namespace

struct thread_pool::state final : detail::blocking_hooks,
                                  std::enable_shared_from_this<thread_pool::state> {
    state(std::size_t slots, std::size_t max_spares)
        : size(slots),
          max_threads(slots + max_spares),
          max_spinning(static_cast<int>(
              std::clamp<std::size_t>(std::thread::hardware_concurrency() / 2, 1, slots))) {}

    // --- The queues (under `mutex`) ---

    void push_locked(detail::task* t, priority p) {
        auto& q = queues[static_cast<std::size_t>(p)];
        t->next = nullptr;
        if (q.tail != nullptr) {
            q.tail->next = t;
        } else {
            q.head = t;
        }
        q.tail = t;
        nodes.store(nodes.load(std::memory_order_relaxed) + 1);
    }

    // The oldest task of the highest priority, for a thread that holds (or now takes) a slot.
    detail::task* pop_locked() {
        for (std::size_t i = queues.size(); i-- > 0;) {  // high first
            auto& q = queues[i];
            if (detail::task* t = q.head) {
                q.head = t->next;
                if (q.head == nullptr) {
                    q.tail = nullptr;
                }
                nodes.store(nodes.load(std::memory_order_relaxed) - 1);
                return t;
            }
        }
        return nullptr;
    }

    bool work_available() const noexcept { return nodes.load() != 0 && active.load() < size; }

    // Everything started has finished and nothing waits to start.
    bool idle_locked() const noexcept {
        return active.load(std::memory_order_relaxed) + blocked.load(std::memory_order_relaxed) ==
                   0 &&
               nodes.load(std::memory_order_relaxed) == 0;
    }

    bool exit_locked() const noexcept {
        return stopping && nodes.load(std::memory_order_relaxed) == 0 &&
               active.load(std::memory_order_relaxed) + blocked.load(std::memory_order_relaxed) ==
                   0;
    }

    // --- Submitting ---

    void enqueue(detail::task* t, priority p) {
        {
            std::unique_lock lock(mutex);
            // Decided under the lock with which threads decide to exit: accepted work always runs.
            // During destruction the pool still takes work from its own tasks (they are drained).
            if (stopping && current != this) {
                if (retired) {
                    lock.unlock();
                    run_inline(t);
                    return;
                }
                t->drop();
                throw pool_stopped(
                    "concert::thread_pool: submit after the pool's destruction began");
            }
            push_locked(t, p);
        }
        if (spinning.load() == 0 && active.load() < size) {
            wake_one();
        }
    }

    // Wakes one sleeping thread, counted as spinning from now on (it takes the token), unless one
    // spins already: a burst of submits wakes one thread, not one per task.
    void wake_one() noexcept {
        int expected = 0;
        if (!spinning.compare_exchange_strong(expected, 1)) {
            return;
        }
        wake_tokens.fetch_add(1);
        work_available_event.notify_one();
    }

    bool take_wake_token() noexcept {
        int tokens = wake_tokens.load();
        while (tokens > 0) {
            if (wake_tokens.compare_exchange_weak(tokens, tokens - 1)) {
                return true;
            }
        }
        return false;
    }

    bool try_start_spinning() noexcept {
        int count = spinning.load();
        while (count < max_spinning) {
            if (spinning.compare_exchange_weak(count, count + 1)) {
                return true;
            }
        }
        return false;
    }

    // --- Threads ---

    // Starts a thread; the caller holds `mutex`. It starts out idle.
    void spawn_locked() {
        const std::size_t index = started;
        std::thread thread([self = shared_from_this(), index] { self->work(index); });
        ++started;
        ++idle;
        if (detached) {
            thread.detach();
        } else {
            threads.push_back(std::move(thread));
        }
    }

    // After stopping was set: wakes the threads, which drain the queue and exit, and joins them.
    // Spares may start while the queue drains: it joins until none is left.
    void join_all() {
        work_available_event.notify_all();
        std::unique_lock lock(mutex);
        while (!threads.empty()) {
            std::thread t = std::move(threads.back());
            threads.pop_back();
            lock.unlock();
            t.join();
            lock.lock();
        }
    }

    // The default pool at exit: runs what is queued, joins its threads (so that none runs while
    // the process ends), and from then on runs whatever static destructors submit inline.
    void retire() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
            retired = true;
            if (exit_locked()) {
                exiting.store(true);
            }
        }
        join_all();
    }

    void work(std::size_t index);
    void run_tasks(detail::task* t, std::unique_lock<std::mutex>& lock);

    // --- blocking_hooks: a task of this pool blocks, then resumes ---

    void begin_blocking() noexcept override {
        bool wake = false;
        {
            std::lock_guard lock(mutex);
            active.fetch_sub(1);
            blocked.fetch_add(1, std::memory_order_relaxed);
            // Somebody must be there to take the slot: for queued work now, and for whatever is
            // submitted while this task blocks (perhaps the very work it waits for).
            if (idle == 0 && started < max_threads) {
                try {
                    spawn_locked();
                } catch (...) {
                    // No thread could start: queued work waits for a free slot (documented).
                }
            }
            wake = nodes.load(std::memory_order_relaxed) != 0;
        }
        if (wake && spinning.load() == 0) {
            wake_one();
        }
    }

    // A queued task was cancelled before it started: an idle thread takes its node out of the
    // queue, so that queued() and wait_idle() stop counting it.
    void forget_queued() noexcept {
        if (spinning.load() == 0 && active.load() < size) {
            wake_one();
        }
    }

    void end_blocking() noexcept override {
        std::lock_guard lock(mutex);
        blocked.fetch_sub(1, std::memory_order_relaxed);
        active.fetch_add(1);
    }

    // The queues.
    std::mutex mutex;
    std::array<fifo, 3> queues;         // by priority::low, normal, high
    std::atomic<std::size_t> nodes{0};  // nodes in the queues (written under mutex)

    // Slots and threads.
    const std::size_t size;
    const std::size_t max_threads;
    std::atomic<std::size_t> active{0};   // threads running a task outside any blocking scope
    std::atomic<std::size_t> blocked{0};  // threads inside one (both written under mutex)
    std::size_t idle = 0;                 // threads with no task (under mutex)
    std::size_t started = 0;              // under mutex
    std::vector<std::thread> threads;     // under mutex
    bool stopping = false;                // under mutex
    bool detached = false;                // under mutex: destroyed from its own task
    bool retired = false;                 // under mutex: stopped for good, later work runs inline
    std::atomic<bool> exiting{false};     // set once exit_locked() holds: it then always will

    // Idle threads: a few spin, the others sleep on `work`.
    const int max_spinning;
    std::atomic<int> spinning{0};
    std::atomic<int> wake_tokens{0};
    detail::event_count work_available_event;  // idle threads sleep here
    mutable detail::event_count idle_threads;  // wait_idle sleeps here

    // The pool whose thread the current thread is, if any.
    static thread_local state* current;

    // The task this worker runs now (its most derived object), and the continuation it runs
    // next: one whose input is that very task, handed over as the task completes while nothing
    // else is queued (see schedule_continuation). It jumps no queue and wakes nobody.
    static thread_local const void* completing;
    static thread_local detail::task* next_in_line;

    // Takes `t` as this worker's next task if `finished` is the task it is completing and the
    // pool has nothing queued.
    bool take_as_next(detail::task* t, const void* finished) noexcept {
        if (current != this || completing != finished || next_in_line != nullptr ||
            nodes.load(std::memory_order_relaxed) != 0) {
            return false;
        }
        next_in_line = t;
        return true;
    }
};

thread_local thread_pool::state* thread_pool::state::current = nullptr;
thread_local const void* thread_pool::state::completing = nullptr;
thread_local detail::task* thread_pool::state::next_in_line = nullptr;

namespace {

// The pools that exist, for the few callers that hold only a pool's identity and may outlive it
// (a cancel or a continuation from another thread): they look it up under this lock, and a pool
// leaves the set before it can go.
struct pool_registry {
    std::mutex mutex;
    std::unordered_set<const thread_pool::state*> live;
};

pool_registry& registry() {
    static auto* instance = new pool_registry;  // never destroyed: pools may outlive statics
    return *instance;
}

// Tasks run inline under DISABLE, one at a time: a continuation that finishes another queues it
// here instead of recursing, and the outermost call on the thread drains the queue.
struct inline_queue {
    detail::task* head = nullptr;
    detail::task* tail = nullptr;
    bool draining = false;
};
thread_local inline_queue inline_runs;

void run_inline(detail::task* t) noexcept {
    auto& q = inline_runs;
    t->next = nullptr;
    (q.tail != nullptr ? q.tail->next : q.head) = t;
    q.tail = t;
    if (q.draining) {
        return;
    }
    q.draining = true;
    while (detail::task* next = q.head) {
        q.head = next->next;
        if (q.head == nullptr) {
            q.tail = nullptr;
        }
        if (next->start()) {
            next->run_and_drop();
        } else {
            next->drop();
        }
    }
    q.draining = false;
}

}  // namespace

void thread_pool::state::work(std::size_t index) {
    name_this_thread(index);
    current = this;
    bool counted_spinning = false;  // this thread counts in `spinning`
    std::unique_lock lock(mutex);
    for (;;) {
        if (!counted_spinning) {
            counted_spinning = take_wake_token();
        }
        if (active.load(std::memory_order_relaxed) < size) {
            if (detail::task* t = pop_locked()) {
                --idle;
                active.fetch_add(1);
                if (counted_spinning) {
                    counted_spinning = false;
                    // The last spinner to find work hands spinning over, so a burst spreads out.
                    if (spinning.fetch_sub(1) == 1 && nodes.load(std::memory_order_relaxed) != 0) {
                        wake_one();
                    }
                }
                run_tasks(t, lock);
                continue;
            }
        }
        if (exit_locked()) {
            break;
        }
        lock.unlock();
        if (!counted_spinning) {
            counted_spinning = try_start_spinning();
        }
        if (counted_spinning) {
            if (!spin_until(worker_spin, [&] { return work_available() || exiting.load(); })) {
                spinning.fetch_sub(1);
                counted_spinning = false;
            }
        }
        if (!counted_spinning) {
            const auto key = work_available_event.prepare_wait();
            if (work_available() || exiting.load() || wake_tokens.load() != 0) {
                work_available_event.cancel_wait();
            } else {
                work_available_event.wait(key);
            }
        }
        lock.lock();
    }
    --idle;
    lock.unlock();
    if (counted_spinning) {
        spinning.fetch_sub(1);
    }
    current = nullptr;
}

// Runs `t`, then keeps the slot for the next queued task while there is one and the pool is not
// over its size. Called and returns with `lock` held; the thread is idle again on return.
void thread_pool::state::run_tasks(detail::task* t, std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    detail::current_blocking_hooks = this;
    for (;;) {
        if (t->start()) {
            // Its address taken now: once it is dropped, code run by its release (a value's
            // destructor, the error handler) may schedule continuations while `t` is gone.
            completing = dynamic_cast<const void*>(t);
            t->run_and_drop();
            completing = nullptr;
        } else {
            t->drop();  // its waiter ran it
        }
        if (detail::task* next = std::exchange(next_in_line, nullptr)) {
            if (active.load(std::memory_order_relaxed) <= size) {
                t = next;
                continue;
            }
            lock.lock();  // over size: the slot goes, and the continuation waits its turn
            push_locked(next, priority::normal);
        } else {
            lock.lock();
        }
        if (active.load(std::memory_order_relaxed) <= size) {
            t = pop_locked();
            if (t != nullptr) {
                lock.unlock();
                continue;
            }
        }
        break;
    }
    detail::current_blocking_hooks = nullptr;
    active.fetch_sub(1);
    ++idle;
    if (idle_locked()) {
        idle_threads.notify_all();
    }
    if (exit_locked()) {
        exiting.store(true);
        work_available_event.notify_all();
    }
}

thread_pool::thread_pool(std::size_t threads, std::size_t max_spare_threads) {
    if (threads == 0) {
        throw std::invalid_argument(
            "concert::thread_pool: the number of threads must be at least 1");
    }
    state_ = std::make_shared<state>(threads, max_spare_threads);
    {
        const std::lock_guard lock(registry().mutex);
        registry().live.insert(state_.get());
    }
    if constexpr (async_compiled_out) {
        return;
    }
    std::unique_lock lock(state_->mutex);
    state_->threads.reserve(threads);
    try {
        for (std::size_t i = 0; i < threads; ++i) {
            state_->spawn_locked();
        }
    } catch (...) {
        state_->stopping = true;
        state_->exiting.store(true);
        auto started = std::move(state_->threads);
        lock.unlock();
        state_->work_available_event.notify_all();
        for (auto& t : started) {
            t.join();
        }
        const std::lock_guard registry_lock(registry().mutex);
        registry().live.erase(state_.get());
        throw;
    }
}

thread_pool::~thread_pool() {
    {
        const std::lock_guard lock(registry().mutex);
        registry().live.erase(state_.get());
    }
    std::unique_lock lock(state_->mutex);
    state_->stopping = true;
    if (state_->exit_locked()) {
        state_->exiting.store(true);
    }
    if (state::current == state_.get()) {
        // A task of this pool destroys it: joining would wait for that very task. The threads
        // finish the queue and exit on their own; the last one frees the state.
        state_->detached = true;
        for (auto& t : state_->threads) {
            t.detach();
        }
        state_->threads.clear();
        lock.unlock();
        state_->work_available_event.notify_all();
        return;
    }
    lock.unlock();
    state_->join_all();
}

const bool thread_pool::built_for_this_setting = true;

std::size_t thread_pool::size() const noexcept {
    return state_->size;
}

std::size_t thread_pool::queued() const noexcept {
    return state_->nodes.load();
}

std::size_t thread_pool::running() const noexcept {
    std::lock_guard lock(state_->mutex);
    return state_->active.load(std::memory_order_relaxed) +
           state_->blocked.load(std::memory_order_relaxed);
}

std::size_t thread_pool::thread_count() const noexcept {
    std::lock_guard lock(state_->mutex);
    return state_->started;
}

void thread_pool::wait_idle() const {
    if (is_worker_thread()) {
        throw std::logic_error(
            "concert::thread_pool::wait_idle: called from one of the pool's own tasks, it would "
            "wait for itself");
    }
    const blocking_scope blocking;  // a task of another pool waiting for this one
    for (;;) {
        const auto key = state_->idle_threads.prepare_wait();
        bool idle = false;
        {
            std::lock_guard lock(state_->mutex);
            idle = state_->idle_locked();
        }
        if (idle) {
            state_->idle_threads.cancel_wait();
            return;
        }
        state_->idle_threads.wait(key);
    }
}

bool thread_pool::is_worker_thread() const noexcept {
    return state::current == state_.get();
}

void thread_pool::enqueue(detail::task* t, priority p) {
    state_->enqueue(t, p);
}

std::size_t default_pool_size() {
    constexpr std::size_t default_threads = 128;
    constexpr std::size_t max_threads = 4096;
    const char* text = std::getenv("CONCERT_THREADS");
    if (text == nullptr) {
        return default_threads;
    }
    const std::string_view value(text);
    std::size_t threads = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), threads);
    if (error != std::errc{} || end != value.data() + value.size() || threads == 0 ||
        threads > max_threads) {
        throw std::invalid_argument(fmt::format(
            "CONCERT_THREADS='{}' is not a thread count: expected a whole number from 1 to {}",
            value, max_threads));
    }
    return threads;
}

namespace {

thread_pool* the_default_pool = nullptr;

// At exit the default pool runs what is queued by then and joins its threads, but stays: static
// destructors that run later may still submit to it, and their work runs inline. (Called from one
// of its own tasks, exit cannot join that task's thread: the pool is left running.)
void drain_default_pool() {
    if (!the_default_pool->is_worker_thread()) {
        const auto* identity = detail::pool_identity(*the_default_pool);
        const_cast<thread_pool::state*>(static_cast<const thread_pool::state*>(identity))->retire();
    }
}

}  // namespace

thread_pool& default_pool() {
    static thread_pool* const pool = [] {
        // Never destroyed: it serves the whole process, static destructors included.
        the_default_pool = new thread_pool(default_pool_size());
        std::atexit(drain_default_pool);
        return the_default_pool;
    }();
    return *pool;
}

namespace detail {

const void* pool_identity(const thread_pool& pool) noexcept {
    return pool.state_.get();  // what state::current holds on the pool's threads
}

bool await(state_base& s, const steady_time* deadline) {
    if (s.adopted()) {
        return s.adopted_ready() || s.adopted_wait(deadline);
    }
    auto* pool = thread_pool::state::current;
    // The very task this worker waits for, not started yet: running it is a direct call. Only
    // without a deadline, which the call could overrun.
    if (deadline == nullptr && pool != nullptr && s.owner() == pool && s.try_start()) {
        s.run_started();  // its node stays queued until a thread takes it and finds it started
        return true;
    }
    auto budget = clock::duration(waiter_spin);
    if (deadline != nullptr) {
        budget = std::min(budget, *deadline - clock::now());
    }
    if (spin_until(budget, [&] { return s.finished(); })) {
        return true;
    }
    const blocking_scope blocking;
    auto& slot = parking_slot(&s);
    for (;;) {
        if (!s.mark_waiting()) {
            return true;
        }
        const auto key = slot.prepare_wait();
        if (s.finished()) {
            slot.cancel_wait();
            return true;
        }
        if (deadline == nullptr) {
            slot.wait(key);
        } else if (!slot.wait_until(key, *deadline)) {
            return s.finished();
        }
    }
}

void forget_queued(const void* owner) noexcept {
    const std::lock_guard lock(registry().mutex);
    const auto* pool = static_cast<const thread_pool::state*>(owner);
    if (registry().live.contains(pool)) {
        const_cast<thread_pool::state*>(pool)->forget_queued();
    }
}

void schedule_continuation(task* t, const void* owner, thread_pool* pool, const void* finished) {
    if (async_disabled()) {
        run_inline(t);
        return;
    }
    auto* current = thread_pool::state::current;
    const void* target = pool != nullptr ? pool_identity(*pool) : owner;
    if (current != nullptr && current == target && current->take_as_next(t, finished)) {
        return;
    }
    if (pool != nullptr) {
        pool->enqueue(t, priority::normal);
        return;
    }
    if (owner != nullptr && current == owner) {
        current->enqueue(t, priority::normal);
        return;
    }
    if (owner != nullptr) {
        // Kept alive past the lock: enqueue may run the task inline (a retired pool), and the
        // task may schedule continuations itself.
        std::shared_ptr<thread_pool::state> owning;
        {
            const std::lock_guard lock(registry().mutex);
            auto* found =
                const_cast<thread_pool::state*>(static_cast<const thread_pool::state*>(owner));
            if (registry().live.contains(found)) {
                owning = found->shared_from_this();
            }
        }
        if (owning) {
            owning->enqueue(t, priority::normal);
            return;
        }
    }
    default_pool().enqueue(t, priority::normal);
}

void wait_in_background(state_base* adopted) {
    adopted->add_ref();
    try {
        default_pool().post([adopted] {
            adopted->adopted_wait(nullptr);
            adopted->release();
        });
    } catch (...) {
        adopted->release();
        throw;
    }
}

}  // namespace detail

}  // namespace concert
