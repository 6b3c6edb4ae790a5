// The dispatcher. Senders append (sender, message) to a batch under a short lock; whoever holds the
// delivery role (the delivery thread, or an inline sender when async is disabled or the thread has
// stopped) swaps the whole batch out and delivers it unlocked, so senders never wait for handlers
// and one queue, drained by one thread at a time, gives send order and one handler at a time.
// The table of subscribers is copied on write: delivery reads an immutable snapshot of flat handler
// lists, each handler one function pointer and its callable. Unsubscribe's guarantee holds without
// a lock or a read-modify-write per call: the deliverer publishes which handler it calls, and
// unsubscribe, which is rare, pays for the fences (see asymmetric_fences).
#include <fmt/format.h>
#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <concert/blocking.hpp>
#include <concert/detail/event_count.hpp>
#include <concert/detail/spin.hpp>
#include <concert/disable.hpp>
#include <concert/dispatcher.hpp>
#include <concert/errors.hpp>

namespace concert {

namespace detail {

struct subscriber {
    subscriber(subscription_kind of_kind, const void* from, std::string_view named,
               erased_handler calls)
        : kind(of_kind), sender(from), message(named), handler(std::move(calls)) {}

    // True for the call that unsubscribed it.
    bool cancel() noexcept { return !cancelled.exchange(true); }

    bool active() const noexcept { return !cancelled.load(std::memory_order_acquire); }

    const subscription_kind kind;
    const void* const sender;
    const std::string message;
    const erased_handler handler;
    std::atomic<bool> cancelled{false};
};

}  // namespace detail

namespace {

using clock = std::chrono::steady_clock;
using detail::subscriber;
using detail::subscription_kind;
using detail::value_ops;

constexpr std::size_t cache_line = 64;

// The sender under which any-sender subscriptions are filed: an address no user object can have.
const char any_sender_marker = 0;
const void* const any_sender_key = &any_sender_marker;

struct message_key_view {
    const void* sender;
    std::string_view message;
};

struct message_key {
    const void* sender;
    std::string message;
    operator message_key_view() const noexcept { return {sender, message}; }  // NOLINT: implicit
};

struct message_key_hash {
    using is_transparent = void;
    std::size_t operator()(message_key_view key) const noexcept {
        const std::size_t h = std::hash<std::string_view>{}(key.message);
        return h ^ (std::hash<const void*>{}(key.sender) + 0x9e3779b9U + (h << 6) + (h >> 2));
    }
};

struct message_key_equal {
    using is_transparent = void;
    bool operator()(message_key_view a, message_key_view b) const noexcept {
        return a.sender == b.sender && a.message == b.message;
    }
};

// One handler as delivery sees it: what to call, the type of value it takes (null: none), and the
// subscription it belongs to, which the table keeps alive.
struct handler_ref {
    detail::handler_function call;
    void* callable;
    const std::type_info* value_type;
    const subscriber* node;
};

using handler_list = std::vector<handler_ref>;

// Who is subscribed to what; immutable once published.
struct subscriber_table {
    std::unordered_map<message_key, handler_list, message_key_hash, message_key_equal> by_message;
    std::unordered_map<const void*, handler_list> by_sender;  // every message of one sender
    std::size_t any_sender_count = 0;
    std::vector<std::shared_ptr<subscriber>> subscribers;  // every subscriber listed above

    void add(std::shared_ptr<subscriber> s) {
        const detail::erased_handler& h = s->handler;
        list_for(*s).push_back({h.function(), h.callable(), h.value_type(), s.get()});
        subscribers.push_back(std::move(s));
    }

    void remove(const subscriber& s) {
        const auto erase_from = [&](auto& map, auto position) {
            std::erase_if(position->second, [&](const auto& h) { return h.node == &s; });
            if (position->second.empty()) {
                map.erase(position);
            }
        };
        switch (s.kind) {
            case subscription_kind::sender_and_message:
                erase_from(by_message, by_message.find(message_key_view{s.sender, s.message}));
                break;
            case subscription_kind::any_sender:
                --any_sender_count;
                erase_from(by_message,
                           by_message.find(message_key_view{any_sender_key, s.message}));
                break;
            case subscription_kind::any_message:
                erase_from(by_sender, by_sender.find(s.sender));
                break;
        }
        std::erase_if(subscribers, [&](const auto& owned) { return owned.get() == &s; });
    }

  private:
    handler_list& list_for(const subscriber& s) {
        switch (s.kind) {
            case subscription_kind::sender_and_message:
                return by_message[message_key{s.sender, s.message}];
            case subscription_kind::any_sender:
                ++any_sender_count;
                return by_message[message_key{any_sender_key, s.message}];
            case subscription_kind::any_message:
                break;
        }
        return by_sender[s.sender];
    }
};

void report_handler_error(std::exception_ptr error, const void* sender,
                          std::string_view message) noexcept {
    try {
        report_error(error, fmt::format("the handler of message \"{}\" sent by {}", message,
                                        fmt::ptr(sender)));
    } catch (...) {
        // Formatting the origin failed (out of memory): report without it.
        report_error(error, "a message handler");
    }
}

// A handler call and unsubscribe each store, then load what the other stored (the handler being
// called; the subscription's cancellation): without a full fence on both sides, both can miss the
// other's store. Delivery runs per handler and unsubscribe is rare, so where Linux's membarrier()
// can make every thread of the process execute a full fence, unsubscribe issues that, and delivery
// only keeps the compiler from reordering (asymmetric fences, as liburcu and folly use). Elsewhere
// both sides fence.
bool asymmetric_fences() noexcept {
    static const bool registered = [] {
#if defined(__linux__) && defined(SYS_membarrier)
        return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
        return false;
#endif
    }();
    return registered;
}

// Delivery's side.
template <bool asymmetric>
void light_fence() noexcept {
    if constexpr (asymmetric) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
}

// Unsubscribe's side.
void heavy_fence() noexcept {
#if defined(__linux__) && defined(SYS_membarrier)
    if (asymmetric_fences()) {
        // Registered, it fails only on an invalid command; delivery relies on it, so never ignore.
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
            std::fputs("concert: membarrier failed after registration\n", stderr);
            std::abort();
        }
        return;
    }
#endif
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

// The handler lists a (sender, message) pair resolves to in one table, in delivery order: the
// exact pair's, the message's from any sender, then every message of the sender's.
struct recipients {
    struct span {
        const handler_ref* begin;
        const handler_ref* end;
    };
    std::array<span, 3> lists{};
    std::size_t count = 0;

    void add(const handler_list* list) noexcept {
        if (list != nullptr) {
            lists[count++] = {list->data(), list->data() + list->size()};
        }
    }
};

template <class Map, class Key>
const handler_list* find_list(const Map& map, const Key& key) {
    const auto found = map.find(key);
    return found == map.end() ? nullptr : &found->second;
}

recipients find_recipients(const subscriber_table& table, const void* sender,
                           std::string_view message) {
    recipients r;
    r.add(find_list(table.by_message, message_key_view{sender, message}));
    if (table.any_sender_count != 0) {
        r.add(find_list(table.by_message, message_key_view{any_sender_key, message}));
    }
    if (!table.by_sender.empty()) {
        r.add(find_list(table.by_sender, sender));
    }
    return r;
}

// A type's name as written in C++ ("double", "std::string"), where the ABI can demangle it.
std::string readable_name(const std::type_info& type) {
#if __has_include(<cxxabi.h>)
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> demangled(
        abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
    if (status == 0 && demangled) {
        return demangled.get();
    }
#endif
    return type.name();
}

// What a message_value_mismatch says: `wanted` and `sent` (null: no value was sent).
std::string value_mismatch(const std::type_info& wanted, const std::type_info* sent) {
    return sent == nullptr
               ? fmt::format(
                     "the handler takes a value of type {}, but the message was sent "
                     "without a value",
                     readable_name(wanted))
               : fmt::format("the handler takes a value of type {}, but the message carries a {}",
                             readable_name(wanted), readable_name(*sent));
}

// The first and the last sizeof(Word) of `size` bytes, which between them hold all of them when
// sizeof(Word) <= size <= 2 * sizeof(Word): two loads instead of a loop or a call.
template <class Word>
struct ends {
    Word head = 0;
    Word tail = 0;

    static ends of(const void* bytes, std::size_t size) noexcept {
        ends e;
        std::memcpy(&e.head, bytes, sizeof(Word));
        std::memcpy(&e.tail, static_cast<const unsigned char*>(bytes) + size - sizeof(Word),
                    sizeof(Word));
        return e;
    }

    void store(unsigned char* to, std::size_t size) const noexcept {
        std::memcpy(to, &head, sizeof(Word));
        std::memcpy(to + size - sizeof(Word), &tail, sizeof(Word));
    }

    bool operator==(const ends&) const = default;
};

// Copies `size` bytes that do not overlap. Messages and small values are a few bytes long: a
// call of memcpy would cost more than the copy.
inline void copy_bytes(unsigned char* to, const unsigned char* from, std::size_t size) noexcept {
    if (size >= 8 && size <= 16) {
        ends<std::uint64_t>::of(from, size).store(to, size);
    } else if (size >= 4 && size < 8) {
        ends<std::uint32_t>::of(from, size).store(to, size);
    } else if (size > 0 && size < 4) {
        to[0] = from[0];
        to[size / 2] = from[size / 2];
        to[size - 1] = from[size - 1];
    } else if (size > 16) {
        std::memcpy(to, from, size);
    }
}

// Compares two byte ranges of `size` bytes, as copy_bytes copies them.
inline bool equal_bytes(const char* a, const char* b, std::size_t size) noexcept {
    if (size >= 8 && size <= 16) {
        return ends<std::uint64_t>::of(a, size) == ends<std::uint64_t>::of(b, size);
    }
    if (size >= 4 && size < 8) {
        return ends<std::uint32_t>::of(a, size) == ends<std::uint32_t>::of(b, size);
    }
    return std::memcmp(a, b, size) == 0;
}

// Whether the CPU fetches a cache line for writing on request: x86's PREFETCHW, which Intel CPUs
// before Broadwell lack (CPUID, which a VM traps, is asked once per process).
bool cpu_prefetches_for_writing() noexcept {
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__PRFCHW__)
    static const bool has_prefetchw = [] {
        unsigned eax = 0;
        unsigned ebx = 0;
        unsigned ecx = 0;
        unsigned edx = 0;
        return __get_cpuid(0x80000001U, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1U << 8U)) != 0;
    }();
    return has_prefetchw;
#else
    return true;
#endif
}

// The queue's lines ahead of a sender were last read by the deliverer, on another core: fetching
// them for writing now, without waiting, spares the next sends a wait for each (which the lock's
// atomic exchange would impose). A prefetch for reading would fetch them shared, and the write
// would then wait all the same. Only where cpu_prefetches_for_writing().
inline void prefetch_for_writing(const unsigned char* address) noexcept {
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__PRFCHW__)
    asm volatile("prefetchw %0" : : "m"(*address));
#else
    __builtin_prefetch(address, 1);
#endif
}

// A message as delivery reads it out of the queue: as handlers receive it, and the value's type.
struct queued_message : detail::delivered_message {
    const std::type_info* value_type;  // null: sent without a value
};

// Messages queued between two deliveries, in one buffer of 8-byte aligned records: the sender and
// the sizes, the message's text, then the value's type and the value (in place, or the address of
// its block), so that a send is one bounds check and a few stores, and a steady stream of sends
// reuses the same buffer. It owns the values in blocks of their own.
class message_batch {
  public:
    message_batch() noexcept : prefetch_(cpu_prefetches_for_writing()) {}
    ~message_batch() {
        clear();
        ::operator delete(data_);
    }
    message_batch(const message_batch&) = delete;
    message_batch& operator=(const message_batch&) = delete;

    // Queues a message with room for a value of `value_size` bytes (none if 0) that `ops`
    // describes: its bytes, or the address of its block. Returns where the caller writes them. On
    // failure nothing is queued: std::bad_alloc, or std::length_error for a message over 4 GiB.
    // Inlined: value_size is a constant in most sends.
    [[gnu::always_inline]] unsigned char* append(const void* sender, std::string_view message,
                                                 const value_ops* ops, std::size_t value_size) {
        if (message.size() > max_text) {
            throw std::length_error("concert::Dispatcher::send: the message is over 4 GiB");
        }
        const std::size_t text_space = round_up(message.size());
        const std::size_t value_space = value_size == 0 ? 0 : ops_size + round_up(value_size);
        const std::size_t size = sizeof(header) + text_space + value_space;
        if (capacity_ - size_ < size) {
            grow(size);
        }
        unsigned char* record = data_ + size_;
        if (prefetch_ && capacity_ - size_ > prefetch_distance) {
            prefetch_for_writing(record + prefetch_distance);
        }
        const header h{sender, static_cast<std::uint32_t>(message.size()),
                       static_cast<std::uint32_t>(value_size)};
        std::memcpy(record, &h, sizeof(h));
        copy_bytes(record + sizeof(header), reinterpret_cast<const unsigned char*>(message.data()),
                   message.size());
        size_ += size;
        if (value_size == 0) {
            return nullptr;
        }
        unsigned char* stored = record + sizeof(header) + text_space;
        std::memcpy(stored, &ops, ops_size);
        heap_values_ += ops->destroy != nullptr ? 1 : 0;
        return stored + ops_size;
    }

    // Reads the message at `*at` into `m` and moves `*at` past it; false past the last one.
    bool next(std::size_t& at, queued_message& m) const noexcept {
        if (at >= size_) {
            return false;
        }
        const unsigned char* record = data_ + at;
        header h{};
        std::memcpy(&h, record, sizeof(h));
        const auto* text = reinterpret_cast<const char*>(record + sizeof(header));
        m = {{h.sender, std::string_view(text, h.text_size), nullptr}, nullptr};
        at += sizeof(header) + round_up(h.text_size);
        if (h.value_size != 0) {
            const value_ops* ops = ops_at(at);
            m.value_type = ops->type;
            m.value = value_at(at, *ops);
            at += ops_size + round_up(h.value_size);
        }
        return true;
    }

    bool empty() const noexcept { return size_ == 0; }

    void clear() noexcept {
        if (heap_values_ != 0) {
            for (std::size_t at = 0; at < size_;) {
                header h{};
                std::memcpy(&h, data_ + at, sizeof(h));
                at += sizeof(header) + round_up(h.text_size);
                if (h.value_size != 0) {
                    const value_ops* ops = ops_at(at);
                    if (ops->destroy != nullptr) {
                        ops->destroy(const_cast<void*>(value_at(at, *ops)));
                    }
                    at += ops_size + round_up(h.value_size);
                }
            }
            heap_values_ = 0;
        }
        size_ = 0;
    }

    void swap(message_batch& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(capacity_, other.capacity_);
        std::swap(heap_values_, other.heap_values_);
    }

  private:
    struct header {
        const void* sender;
        std::uint32_t text_size;
        std::uint32_t value_size;  // 0: no value
    };
    static constexpr std::size_t record_alignment = 8;
    static_assert(sizeof(header) % record_alignment == 0);
    static_assert(detail::in_place_alignment <= record_alignment);
    static constexpr std::size_t max_text = UINT32_MAX;
    static constexpr std::size_t prefetch_distance = 512;
    static constexpr std::size_t ops_size = sizeof(const value_ops*);  // stored before the value

    static constexpr std::size_t round_up(std::size_t size) noexcept {
        return (size + record_alignment - 1) & ~(record_alignment - 1);
    }

    const value_ops* ops_at(std::size_t at) const noexcept {
        const value_ops* ops = nullptr;
        std::memcpy(&ops, data_ + at, ops_size);
        return ops;
    }

    // The value stored at `at` (its value_ops first): in place, or in the block it points to.
    const void* value_at(std::size_t at, const value_ops& ops) const noexcept {
        const unsigned char* bytes = data_ + at + ops_size;
        if (ops.destroy == nullptr) {
            return bytes;
        }
        void* object = nullptr;
        std::memcpy(&object, bytes, sizeof(object));
        return object;
    }

    // Makes room for `more` bytes; what is queued is bytes and addresses, moved as they are.
    void grow(std::size_t more) {
        const std::size_t needed = size_ + more;
        const std::size_t capacity = std::max({needed, capacity_ * 2, std::size_t{4096}});
        auto* data = static_cast<unsigned char*>(::operator new(capacity));
        if (size_ != 0) {
            std::memcpy(data, data_, size_);
        }
        ::operator delete(data_);
        data_ = data;
        capacity_ = capacity;
    }

    unsigned char* data_ = nullptr;  // aligned as operator new aligns, so every record is
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
    std::size_t heap_values_ = 0;  // values in blocks of their own, freed by clear()
    const bool prefetch_;          // the same for every batch: not swapped
};

// A handler whose value type is not the very type_info object sent: the same type all the same
// (from a shared library that does not merge type_info objects), or a mismatch to report.
[[gnu::noinline]] void call_checking_value_type(const handler_ref& h,
                                                const queued_message& m) noexcept {
    try {
        if (m.value_type == nullptr || *h.value_type != *m.value_type) {
            throw message_value_mismatch(value_mismatch(*h.value_type, m.value_type));
        }
        h.call(h.callable, m);
    } catch (...) {
        report_handler_error(std::current_exception(), m.sender, m.message);
    }
}

struct message_waiter {
    const void* sender;
    std::string_view message;
    bool sent = false;  // guarded by waiters_mutex
};

// How long the delivery thread polls for the next message before it sleeps.
constexpr auto delivery_spin = std::chrono::microseconds(50);

// The delivering thread's snapshot of the subscribers, kept from batch to batch while the table
// does not change.
struct table_view {
    std::shared_ptr<const subscriber_table> table;
    std::uint64_t version = 0;
};

}  // namespace

namespace detail {

struct dispatcher_state {
    explicit dispatcher_state(bool start_thread) : stopping(!start_thread) {
        if (start_thread) {
            thread = std::thread([this] {
                run();
                if (orphaned) {
                    delete this;  // the dispatcher was destroyed by one of its own handlers
                }
            });
        }
    }

    // Queues the message. The one place that decides where delivery runs: on the delivery thread,
    // or inline (async disabled, or the thread stopped) on the sender's thread, unless another
    // thread holds the delivery role, which then delivers it after everything sent before. True
    // when the caller has taken the role and must drain().
    // Inlined into both sends: a call would cost a tenth of a send.
    // `write_value(where)` writes the value_size bytes of the value, if any.
    template <class WriteValue>
    [[gnu::always_inline]] bool enqueue(const void* sender, std::string_view message,
                                        const value_ops* ops, std::size_t value_size,
                                        WriteValue write_value) {
        bool wake = false;
        bool drain_here = false;
        {
            std::lock_guard lock(queue_lock);
            const bool was_empty = incoming.empty();
            write_value(incoming.append(sender, message, ops, value_size));
            ++sent;
            if (was_empty) {
                queued.store(true, std::memory_order_relaxed);
            }
            if (stopping || async_disabled()) {
                if (drainer.load(std::memory_order_relaxed) == std::thread::id{}) {
                    drainer.store(std::this_thread::get_id(), std::memory_order_relaxed);
                    drain_here = true;
                }
            } else {
                wake = std::exchange(consumer_sleeping, false);
            }
        }
        if (wake) {
            wake_consumer();
        }
        return drain_here;
    }

    void wake_consumer() noexcept { delivery_parked.notify_one(); }

    // Under queue_lock, by the holder of the role: takes what is queued out for delivery, and
    // returns how many messages that makes delivered once it is.
    std::uint64_t take() noexcept {
        batch.swap(incoming);
        queued.store(false, std::memory_order_relaxed);
        return sent;
    }

    // The count of messages sent so far, for flush.
    std::uint64_t sent_so_far() noexcept {
        std::lock_guard lock(queue_lock);
        return sent;
    }

    // True on the thread that holds the delivery role: inside one of this dispatcher's handlers.
    bool delivering_here() const noexcept {
        return drainer.load(std::memory_order_relaxed) == std::this_thread::get_id();
    }

    // Run by the holder of the delivery role: delivers batch after batch until the queue is empty,
    // then gives the role up. A handler's send only queues, so a message loop iterates here
    // instead of recursing.
    void drain() noexcept {
        for (;;) {
            std::uint64_t taken = 0;
            {
                std::lock_guard lock(queue_lock);
                if (incoming.empty()) {
                    if (!view_is_stale()) {
                        drainer.store(std::thread::id{}, std::memory_order_relaxed);
                        return;
                    }
                } else {
                    taken = take();
                }
            }
            if (taken != 0) {
                deliver_taken(taken);
            } else {
                drop_stale_view();
            }
        }
    }

    // The delivery thread. It keeps the role while it spins for more (one lock per batch, as a
    // sender's), and gives it up before it sleeps or leaves.
    void run() {
        bool holding = false;
        for (;;) {
            detail::spin_until(delivery_spin,
                               [&] { return queued.load(std::memory_order_relaxed); });
            std::uint64_t taken = 0;
            detail::event_count::key parked_key = 0;
            {
                std::lock_guard lock(queue_lock);
                if (!holding && !incoming.empty() &&
                    drainer.load(std::memory_order_relaxed) == std::thread::id{}) {
                    drainer.store(std::this_thread::get_id(), std::memory_order_relaxed);
                    holding = true;
                }
                if (holding && !incoming.empty()) {
                    taken = take();
                } else if (holding && view_is_stale()) {
                    // taken stays 0: drop the view below, still holding the role
                } else {
                    if (holding) {
                        drainer.store(std::thread::id{}, std::memory_order_relaxed);
                        holding = false;
                    }
                    if (stopping) {
                        return;  // delivered, or being delivered by the inline holder of the role
                    }
                    // Whoever finds consumer_sleeping set notifies delivery_parked after this
                    // unlock. An inline holder of the role drains the queue to empty before it
                    // lets go.
                    consumer_sleeping = true;
                    parked_key = delivery_parked.prepare_wait();
                }
            }
            if (holding) {
                if (taken != 0) {
                    deliver_taken(taken);
                } else {
                    drop_stale_view();
                }
                continue;
            }
            delivery_parked.wait(parked_key);
        }
    }

    // Delivers the batch taken out of the queue, which brings the count of messages delivered to
    // `taken`.
    void deliver_taken(std::uint64_t taken) noexcept {
        deliver_batch();
        batch.clear();
        // seq_cst store then load, against flush's increment then load: one of them sees the
        // other.
        delivered.store(taken);
        if (flushers.load() != 0) {
            std::lock_guard lock(flush_mutex);
            flush_cv.notify_all();
        }
    }

    // Whether the holder's snapshot is older than the table: it may hold removed handlers.
    bool view_is_stale() const noexcept {
        return view.table != nullptr &&
               table_version.load(std::memory_order_acquire) != view.version;
    }

    // Run by the holder of the role before it lets go, outside the queue lock: removed handlers
    // (and their captures) go now rather than at the next delivery. Their destructors may use, or
    // destroy, this dispatcher: the role is still held, so a destruction leaves the state to this
    // thread.
    void drop_stale_view() noexcept { view.table.reset(); }

    void deliver_batch() noexcept {
        if (asymmetric_fences()) {
            deliver_batch_with<true>();
        } else {
            deliver_batch_with<false>();
        }
    }

    template <bool asymmetric>
    void deliver_batch_with() noexcept {
        // Only the holder of the role writes call_seq: it stays in a register for the batch.
        std::uint64_t seq = call_seq.load(std::memory_order_relaxed);
        // Streams repeat the same pair ("frame" from one camera): look it up once per run of them.
        const void* last_sender = nullptr;
        std::string_view last_message;
        recipients last;
        bool looked_up = false;
        queued_message m{};
        for (std::size_t at = 0; batch.next(at, m);) {
            // A subscription made before a message was sent must see it: refresh when the table
            // changed.
            if (table_version.load(std::memory_order_acquire) != view.version || !view.table)
                [[unlikely]] {
                refresh_view();
                looked_up = false;
            }
            if (!looked_up || m.sender != last_sender || m.message.size() != last_message.size() ||
                !equal_bytes(m.message.data(), last_message.data(), m.message.size()))
                [[unlikely]] {
                last = find_recipients(*view.table, m.sender, m.message);
                last_sender = m.sender;
                last_message = m.message;
                looked_up = true;
            }
            for (std::size_t i = 0; i < last.count; ++i) {
                seq = call_each<asymmetric>(last.lists[i], m, seq);
            }
        }
    }

    void refresh_view() noexcept {
        std::shared_ptr<const subscriber_table> fresh;
        {
            std::lock_guard lock(table_mutex);
            fresh = current_table;
            view.version = table_version.load(std::memory_order_relaxed);
        }
        // The old snapshot dies unlocked: removed handlers' captures may subscribe.
        view.table.swap(fresh);
    }

    // Calls each handler of `list` that is still subscribed, with the stores that tell unsubscribe
    // which handler runs (see wait_until_not_calling). `seq` is call_seq between calls; returns
    // its next value. Handlers of the exact pair run first, then those of the message from any
    // sender, then those of every message of the sender; each group in subscription order.
    template <bool asymmetric>
    std::uint64_t call_each(recipients::span list, const queued_message& m,
                            std::uint64_t seq) noexcept {
        for (const handler_ref* h = list.begin; h != list.end; ++h) {
            const subscriber* node = h->node;
            calling.store(node, std::memory_order_release);
            call_seq.store(seq + 1, std::memory_order_release);
            light_fence<asymmetric>();
            if (!node->cancelled.load(std::memory_order_relaxed)) {
                // The type check is one comparison of type_info addresses, which differ for one
                // type only across shared libraries that do not merge them.
                if (h->value_type == nullptr || h->value_type == m.value_type) [[likely]] {
                    try {
                        h->call(h->callable, m);
                    } catch (...) {
                        report_handler_error(std::current_exception(), m.sender, m.message);
                    }
                } else {
                    call_checking_value_type(*h, m);
                }
            }
            seq += 2;
            call_seq.store(seq, std::memory_order_release);
            light_fence<asymmetric>();
            if (unsubscribers_waiting.load(std::memory_order_relaxed) != 0) [[unlikely]] {
                wake_unsubscribers();
            }
        }
        return seq;
    }

    [[gnu::noinline]] void wake_unsubscribers() noexcept {
        { std::lock_guard lock(unsubscribe_mutex); }
        unsubscribe_cv.notify_all();
    }

    // Returns once `node`, already cancelled, is not being called and never will be. Not called
    // on the deliverer's own thread (its call in progress may be the caller).
    void wait_until_not_calling(const subscriber* node) {
        heavy_fence();
        // After the fence, a call that missed the cancellation has published itself: call_seq is
        // odd and `calling` is the node. A call that starts later sees the cancellation.
        const std::uint64_t seq = call_seq.load(std::memory_order_acquire);
        if ((seq & 1U) == 0 || calling.load(std::memory_order_acquire) != node) {
            return;
        }
        const auto over = [&] { return call_seq.load(std::memory_order_acquire) != seq; };
        if (detail::spin_until(delivery_spin, over)) {
            return;
        }
        unsubscribers_waiting.fetch_add(1);
        heavy_fence();  // against delivery's store of call_seq then load of unsubscribers_waiting
        {
            const blocking_scope blocking;
            std::unique_lock lock(unsubscribe_mutex);
            unsubscribe_cv.wait(lock, over);
        }
        unsubscribers_waiting.fetch_sub(1);
    }

    // Later sends are delivered inline. Joins the delivery thread, except from the delivery thread
    // itself (a handler shutting its dispatcher down, or ending the program): that thread finishes
    // the queue and leaves, and stays owned here so that the destructor can join it.
    void stop() {
        std::thread running;
        bool wake = false;
        {
            std::lock_guard lock(queue_lock);
            stopping = true;
            if (thread.get_id() != std::this_thread::get_id()) {
                running = std::move(thread);
            }
            wake = std::exchange(consumer_sleeping, false);
        }
        if (wake) {
            wake_consumer();
        }
        if (running.joinable()) {
            const blocking_scope blocking;
            running.join();
        }
    }

    // The Dispatcher is being destroyed. From inside one of its handlers, the holder of the role
    // is still draining on this very thread, and on the delivery thread (a handler, or the
    // destructor of a handler's captures as the thread lets go of an old table) run() is still
    // under way: either frees the state once it is done.
    void release() {
        stop();
        bool on_delivery_thread = false;
        {
            std::lock_guard lock(queue_lock);
            on_delivery_thread = thread.get_id() == std::this_thread::get_id();
            if (on_delivery_thread) {
                thread.detach();  // it frees the state as it leaves
            }
        }
        if (!on_delivery_thread && !delivering_here()) {
            delete this;
            return;
        }
        orphaned = true;
    }

    void wait_delivered(std::uint64_t target) {
        const auto done = [&] { return delivered.load() >= target; };
        if (detail::spin_until(delivery_spin, done)) {
            return;
        }
        flushers.fetch_add(1);
        {
            const blocking_scope blocking;  // a pool task flushing: its handlers may need the pool
            std::unique_lock lock(flush_mutex);
            flush_cv.wait(lock, done);
        }
        flushers.fetch_sub(1);
    }

    // The tables a change leaves behind: the caller lets them go last, unlocked, since they may
    // hold the last reference to a removed handler, whose captures' destructors may use (or
    // destroy) this dispatcher.
    struct retired_tables {
        std::shared_ptr<const subscriber_table> previous;
        std::shared_ptr<const subscriber_table> idle_view;
    };

    template <class Edit>
    [[nodiscard]] retired_tables change_table(Edit&& edit) {
        retired_tables retired;
        {
            std::lock_guard lock(table_mutex);
            auto next = std::make_shared<subscriber_table>(*current_table);
            edit(*next);
            retired.previous = std::exchange(current_table, std::move(next));
            table_version.fetch_add(1, std::memory_order_release);
        }
        // Nobody delivering: nobody would let go of the old snapshot before the next delivery.
        std::lock_guard lock(queue_lock);
        if (drainer.load(std::memory_order_relaxed) == std::thread::id{}) {
            retired.idle_view = std::move(view.table);
        }
        return retired;
    }

    bool wait_for_message(const void* sender, std::string_view message, clock::duration timeout) {
        message_waiter waiter{sender, message};
        const auto sent = [&] { return waiter.sent; };
        const blocking_scope blocking;
        std::unique_lock lock(waiters_mutex);
        waiters.push_back(&waiter);
        waiter_count.fetch_add(1, std::memory_order_relaxed);
        const auto now = clock::now();
        if (timeout >= clock::time_point::max() - now) {
            waiters_cv.wait(lock, sent);
        } else {
            waiters_cv.wait_until(lock, now + timeout, sent);
        }
        std::erase(waiters, &waiter);
        waiter_count.fetch_sub(1, std::memory_order_relaxed);
        return waiter.sent;
    }

    void signal_waiters(const void* sender, std::string_view message) {
        bool any = false;
        {
            std::lock_guard lock(waiters_mutex);
            for (auto* w : waiters) {
                if (w->sender == sender && w->message == message) {
                    w->sent = true;
                    any = true;
                }
            }
        }
        if (any) {
            waiters_cv.notify_all();
        }
    }

    // The queue, on a line of its own: what every send writes, and the holder of the role only
    // when it takes a batch, so that a send finds the line in its own cache.
    alignas(cache_line) detail::spin_lock queue_lock;
    message_batch incoming;          // guarded by queue_lock
    std::uint64_t sent = 0;          // every message queued so far; guarded by queue_lock
    bool consumer_sleeping = false;  // guarded by queue_lock
    bool stopping;                   // guarded by queue_lock
    // The thread holding the delivery role, or none: written under queue_lock, read unlocked only
    // to ask "is it me?", which only the thread itself can make true.
    std::atomic<std::thread::id> drainer{};

    // Whether `incoming` holds messages: what the spinning delivery thread polls, on a line of its
    // own, which a send writes only when it queues into an empty batch. Written under queue_lock.
    alignas(cache_line) std::atomic<bool> queued{false};

    // What the holder of the role owns: the batch it delivers and its snapshot of the subscribers.
    // On a line of its own: delivery touches it per message, senders the queue above.
    alignas(cache_line) message_batch batch;
    table_view view;
    bool orphaned = false;  // written and read by the holder of the role only

    // How many messages have been delivered: written by the delivery thread only.
    alignas(cache_line) std::atomic<std::uint64_t> delivered{0};

    // Which handler the holder of the role is calling: call_seq is odd during a call (of
    // `calling`), even between calls. Written by the holder only; read by unsubscribe.
    alignas(cache_line) std::atomic<const subscriber*> calling{nullptr};
    std::atomic<std::uint64_t> call_seq{0};
    std::atomic<int> unsubscribers_waiting{0};
    std::mutex unsubscribe_mutex;
    std::condition_variable unsubscribe_cv;

    // Threads in flush() waiting for the delivery thread.
    std::mutex flush_mutex;
    std::condition_variable flush_cv;
    std::atomic<int> flushers{0};

    // The subscribers.
    std::mutex table_mutex;
    std::shared_ptr<const subscriber_table> current_table =  // guarded by table_mutex
        std::make_shared<const subscriber_table>();
    std::atomic<std::uint64_t> table_version{0};

    // Threads in wait(); senders look at waiter_count, without the lock, before signalling.
    std::mutex waiters_mutex;
    std::condition_variable waiters_cv;
    std::vector<message_waiter*> waiters;  // guarded by waiters_mutex
    std::atomic<int> waiter_count{0};

    detail::event_count delivery_parked;  // the sleeping delivery thread waits here
    std::thread thread;                   // guarded by queue_lock once running
};

union global_dispatcher_storage {
    constexpr global_dispatcher_storage() : dispatcher(Dispatcher::process_lifetime_t{}) {}
    // Never destroyed, so that senders running during static destruction still find it.
    ~global_dispatcher_storage() {}  // NOLINT: a union with a non-trivial member needs a body
    Dispatcher dispatcher;
};

}  // namespace detail

namespace {
constinit detail::global_dispatcher_storage global_storage;

void shut_down_global_dispatcher() {
    global_storage.dispatcher.shutdown();
}
}  // namespace

constinit Dispatcher& dispatcher = global_storage.dispatcher;

bool subscription::active() const noexcept {
    const auto node = node_.lock();
    return node != nullptr && node->active();
}

void scoped_subscription::reset() noexcept {
    const subscription s = release();
    if (s.owner_ == nullptr) {
        return;
    }
    try {
        s.owner_->unsubscribe(s);
    } catch (...) {
        // Only running out of memory (copying the table) gets here; a destructor cannot throw it.
        report_error(std::current_exception(), "unsubscribing a scoped_subscription");
    }
}

Dispatcher::~Dispatcher() {
    if (auto* s = state_.load(std::memory_order_acquire)) {
        s->release();
    }
}

detail::dispatcher_state& Dispatcher::state() {
    if (auto* s = state_.load(std::memory_order_acquire)) [[likely]] {
        return *s;
    }
    return create_state();
}

detail::dispatcher_state& Dispatcher::create_state() {
    std::lock_guard lock(lifecycle_mutex_);
    if (auto* s = state_.load(std::memory_order_relaxed)) {
        return *s;
    }
    asymmetric_fences();  // registers with the kernel once, here rather than on a delivery
    auto* s = new detail::dispatcher_state(!shut_down_ && !async_compiled_out);
    state_.store(s, std::memory_order_release);
    if (process_lifetime_) {
        // Registered at first use, the shutdown runs after the destructors of everything created
        // since, like a function-local static's.
        std::atexit(shut_down_global_dispatcher);
    }
    return *s;
}

subscription Dispatcher::add(subscription_kind kind, const void* sender, std::string_view message,
                             detail::erased_handler handler) {
    auto& s = state();
    auto node = std::make_shared<subscriber>(kind, sender, message, std::move(handler));
    const auto retired = s.change_table([&](subscriber_table& table) { table.add(node); });
    return {this, node};
}

void Dispatcher::unsubscribe(const subscription& s) {
    if (s.owner_ == nullptr) {
        return;
    }
    if (s.owner_ != this) {
        throw std::invalid_argument(
            "concert::Dispatcher::unsubscribe: the subscription belongs to another dispatcher");
    }
    const auto node = s.node_.lock();
    if (node == nullptr) {
        return;  // unsubscribed, and no delivery holds it any more
    }
    auto& st = state();
    detail::dispatcher_state::retired_tables retired;
    if (node->cancel()) {
        retired = st.change_table([&](subscriber_table& table) { table.remove(*node); });
    }
    if (!st.delivering_here()) {
        st.wait_until_not_calling(node.get());
    }
    // `retired` goes last: it may take this dispatcher with it.
}

namespace {
// What a send does once the message is queued: wake wait()ers, and deliver if it took the role.
[[gnu::always_inline]] inline void after_enqueue(detail::dispatcher_state& s, bool drain_here,
                                                 const void* sender, std::string_view message) {
    if (s.waiter_count.load(std::memory_order_relaxed) != 0) [[unlikely]] {
        s.signal_waiters(sender, message);
    }
    if (drain_here) {
        s.drain();
        if (s.orphaned) {
            delete &s;  // a handler destroyed this dispatcher: the state was left to its drainer
        }
    }
}
}  // namespace

void Dispatcher::send(const void* sender, std::string_view message) {
    auto& s = state();
    after_enqueue(s, s.enqueue(sender, message, nullptr, 0, [](unsigned char*) {}), sender,
                  message);
}

void Dispatcher::send_word(const void* sender, std::string_view message,
                           const detail::value_ops& ops, std::uint64_t word) {
    auto& s = state();
    const bool drain_here = s.enqueue(sender, message, &ops, sizeof(word), [&](unsigned char* to) {
        std::memcpy(to, &word, sizeof(word));
    });
    after_enqueue(s, drain_here, sender, message);
}

void Dispatcher::send_value(const void* sender, std::string_view message,
                            const detail::value_ops& ops, const void* bytes) {
    detail::dispatcher_state* state_pointer = nullptr;
    bool drain_here = false;
    try {
        state_pointer = &state();
        drain_here =
            state_pointer->enqueue(sender, message, &ops, ops.size, [&](unsigned char* to) {
                copy_bytes(to, static_cast<const unsigned char*>(bytes), ops.size);
            });
    } catch (...) {
        if (ops.destroy != nullptr) {
            void* object = nullptr;
            std::memcpy(&object, bytes, sizeof(object));
            ops.destroy(object);
        }
        throw;
    }
    after_enqueue(*state_pointer, drain_here, sender, message);
}

void Dispatcher::flush() {
    auto& s = state();
    if (s.delivering_here()) {
        throw std::logic_error(
            "concert::Dispatcher::flush: called from inside a handler, it would wait for itself");
    }
    s.wait_delivered(s.sent_so_far());
}

bool Dispatcher::wait(const void* sender, std::string_view message, clock::duration timeout) {
    return state().wait_for_message(sender, message, timeout);
}

void Dispatcher::shutdown() {
    detail::dispatcher_state* s = nullptr;
    {
        std::lock_guard lock(lifecycle_mutex_);
        shut_down_ = true;
        s = state_.load(std::memory_order_relaxed);
    }
    if (s != nullptr) {
        s->stop();
    }
}

}  // namespace concert
