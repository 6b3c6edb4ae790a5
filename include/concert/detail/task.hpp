// Building blocks shared by the executors: a call bound to copies of its arguments, running it into
// a promise, and the intrusive queue node a pool stores.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "../errors.hpp"

namespace concert::detail {

// Binds decayed copies of `f` and `args` (as std::thread does); the call invokes them as rvalues,
// so a reference is only kept where the user passed std::ref.
template <class F, class... Args>
auto bind_call(F&& f, Args&&... args) {
    return [fn = std::forward<F>(f),
            ... bound = std::forward<Args>(args)]() mutable -> decltype(auto) {
        return std::invoke(std::move(fn), std::move(bound)...);
    };
}

template <class F, class... Args>
using call_result_t = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;

// Runs `call` and stores its value or exception in `promise`. `call` (with its captured arguments)
// is destroyed before the result is published, so a waiter never races with its destructor.
template <class R, class Call>
void fulfil(std::promise<R>& promise, std::optional<Call>& call) noexcept {
    try {
        if constexpr (std::is_void_v<R>) {
            (*call)();
            call.reset();
            promise.set_value();
        } else if constexpr (std::is_reference_v<R>) {
            R value = (*call)();
            call.reset();
            promise.set_value(value);
        } else {
            R value = (*call)();
            call.reset();
            promise.set_value(std::move(value));
        }
    } catch (...) {
        call.reset();
        promise.set_exception(std::current_exception());
    }
}

inline constexpr const char* detached_task_origin = "a fire-and-forget task";

// Runs a call whose result nobody waits for; its exception goes to the error handler.
template <class Call>
void run_detached(Call& call) noexcept {
    try {
        call();
    } catch (...) {
        report_error(std::current_exception(), detached_task_origin);
    }
}

// The unit a pool queues: the link and the call (for submit, also the promise, all in one
// task_block). The pool runs it once, then deletes it; a task deleted unrun breaks its promise.
struct task {
    task() = default;
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    virtual ~task() = default;
    virtual void run() noexcept = 0;
    task* next = nullptr;
};

template <class Call>
struct detached_task final : task {
    explicit detached_task(Call&& c) : call(std::move(c)) {}
    void run() noexcept override { run_detached(call); }
    Call call;
};

// One allocation for a submitted task: the header, the task, and an arena from which the task's
// std::promise takes its shared state and result (through its allocator_arg constructor). Each
// part releases the block when it is destroyed: the task once it ran, the state and the result
// once the last future lets go of them; the last one frees it. Three allocations (made on the
// submitting thread and freed on others) become one.
class task_block {
  public:
    // A block with room for an object of `object_bytes` and an arena of `arena_bytes`.
    static task_block* create(std::size_t object_bytes, std::size_t arena_bytes) {
        const std::size_t object_space = round_up(object_bytes);
        void* memory = ::operator new(header_bytes + object_space + arena_bytes);
        return ::new (memory) task_block(object_space, arena_bytes);
    }

    void* object() noexcept { return reinterpret_cast<std::byte*>(this) + header_bytes; }
    static task_block* of_object(void* object) noexcept {
        return std::launder(
            reinterpret_cast<task_block*>(static_cast<std::byte*>(object) - header_bytes));
    }

    // Carves `bytes` from the arena (made while the promise is built, on one thread), or returns
    // null when the arena is too small.
    void* carve(std::size_t bytes) noexcept {
        const std::size_t size = round_up(bytes);
        if (arena_used_ + size > arena_bytes_) {
            return nullptr;
        }
        void* part = arena() + arena_used_;
        arena_used_ += size;
        parts_.fetch_add(1, std::memory_order_relaxed);
        return part;
    }

    bool owns(const void* part) const noexcept {
        const auto* p = static_cast<const std::byte*>(part);
        return p >= arena() && p < arena() + arena_bytes_;
    }

    void release() noexcept {
        if (parts_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            this->~task_block();
            ::operator delete(static_cast<void*>(this));
        }
    }

  private:
    static constexpr std::size_t alignment = alignof(std::max_align_t);
    static constexpr std::size_t round_up(std::size_t bytes) noexcept {
        return (bytes + alignment - 1) / alignment * alignment;
    }

    task_block(std::size_t object_space, std::size_t arena_bytes) noexcept
        : object_space_(object_space), arena_bytes_(arena_bytes) {}

    std::byte* arena() noexcept { return static_cast<std::byte*>(object()) + object_space_; }
    const std::byte* arena() const noexcept {
        return reinterpret_cast<const std::byte*>(this) + header_bytes + object_space_;
    }

    std::atomic<int> parts_{1};  // the object itself, plus each part carved from the arena
    std::size_t object_space_;
    std::size_t arena_bytes_;
    std::size_t arena_used_ = 0;

  public:
    static constexpr std::size_t header_bytes =
        (sizeof(std::atomic<int>) + 3 * sizeof(std::size_t) + alignment - 1) / alignment *
        alignment;
};

// Hands std::promise the arena of a task_block, falling back to the heap when it is full.
template <class T>
struct task_block_allocator {
    using value_type = T;

    explicit task_block_allocator(task_block* b) noexcept : block(b) {}
    template <class U>
    task_block_allocator(const task_block_allocator<U>& other) noexcept  // NOLINT: implicit
        : block(other.block) {}

    T* allocate(std::size_t n) {
        static_assert(alignof(T) <= alignof(std::max_align_t));
        if (void* part = block->carve(n * sizeof(T))) {
            return static_cast<T*>(part);
        }
        return static_cast<T*>(::operator new(n * sizeof(T)));
    }

    void deallocate(T* p, std::size_t /*n*/) noexcept {
        if (block->owns(p)) {
            block->release();
        } else {
            ::operator delete(static_cast<void*>(p));
        }
    }

    template <class U>
    bool operator==(const task_block_allocator<U>& other) const noexcept {
        return block == other.block;
    }

    task_block* block;
};

// How many bytes a promise's result keeps for its value.
template <class R>
inline constexpr std::size_t stored_value_bytes = sizeof(R);
template <>
inline constexpr std::size_t stored_value_bytes<void> = 0;
template <class R>
inline constexpr std::size_t stored_value_bytes<R&> = sizeof(R*);

template <class R, class Call>
struct promised_task final : task {
    // Room for the shared state and the result std::promise allocates (libstdc++ needs about
    // 80 bytes for the state and 32 plus the value for the result).
    static constexpr std::size_t promise_arena_bytes = 192 + stored_value_bytes<R>;

    static promised_task* create(Call&& c) {
        task_block* block = task_block::create(sizeof(promised_task), promise_arena_bytes);
        try {
            return ::new (block->object()) promised_task(std::move(c), block);
        } catch (...) {
            block->release();
            throw;
        }
    }

    // The block goes when its last part does.
    static void operator delete(void* object) noexcept { task_block::of_object(object)->release(); }

    void run() noexcept override { fulfil(promise, call); }
    std::promise<R> promise;
    std::optional<Call> call;

  private:
    promised_task(Call&& c, task_block* block)
        : promise(std::allocator_arg, task_block_allocator<char>(block)), call(std::move(c)) {}
};

}  // namespace concert::detail
