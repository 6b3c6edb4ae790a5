// The child program of tests/exit_test.cpp: leaves work in flight on the global pool and the
// global dispatcher and returns from main; the very last thing the exit sequence runs prints what
// was done. argv[1] says which of the two is created first ("pool-first" or "dispatcher-first"),
// so both orders of their shutdown at exit are exercised; "stepping" runs a message loop instead,
// and "late-users" uses the pool from static destructors and the dispatcher's last deliveries.
#include <fmt/format.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include <concert/concert.hpp>

namespace {

constexpr int posted_tasks = 200;
std::atomic<int> ran{0};
std::atomic<int> handled{0};
const int detector = 0;  // the sender

void print_outcome() {
    fmt::print("ran={} handled={}\n", ran.load(), handled.load());
    std::fflush(stdout);
}

void acquire_and_announce() {
    ++ran;
    concert::dispatcher.send(&detector, "frame");
}

// "stepping": a state machine that steps itself through the global dispatcher, each step sending
// the next. One chain is under way as main returns, so the dispatcher's shutdown at exit delivers
// it; a second starts from a static destructor after that shutdown, so it runs inline. Both must
// iterate: recursion overflowed the stack after about 35,000 steps.
constexpr int chain_length = 50'000;
std::atomic<int> steps{0};
const int machine = 0;

void step(const void*) {
    if (++steps % chain_length != 0) {
        concert::dispatcher.send(&machine, "step");
    }
}

// Constructed before main, so destroyed after the dispatcher's shutdown at exit.
struct late_stepper {
    late_stepper() = default;
    late_stepper(const late_stepper&) = delete;
    late_stepper& operator=(const late_stepper&) = delete;
    ~late_stepper() {
        if (armed) {
            concert::dispatcher.send(&machine, "step");
            fmt::print("steps={}\n", steps.load());
            std::fflush(stdout);
        }
    }
    bool armed = false;
};
late_stepper late;

// "late-users": code that still uses the default pool during static destruction. A global made
// before the pool's first use is destroyed after the pool's drain and the dispatcher's shutdown
// at exit, and submits and waits there; the dispatcher's last deliveries at exit submit too.
constexpr int late_jobs = 100;
std::atomic<int> jobs_ran{0};
const int scanner = 0;

struct late_user {
    late_user() = default;
    late_user(const late_user&) = delete;
    late_user& operator=(const late_user&) = delete;
    ~late_user() {
        if (armed) {
            const int submitted = concert::submit([] { return 7; }).result();
            concert::default_pool().wait_idle();
            fmt::print("late submit={} jobs={}\n", submitted, jobs_ran.load());
            std::fflush(stdout);
        }
    }
    bool armed = false;
};
late_user user;

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "late-users") {
        user.armed = true;
        concert::dispatcher.subscribe(
            &scanner, "job", [](const void*) { concert::submit([] { ++jobs_ran; }).wait(); });
        for (int i = 0; i < late_jobs; ++i) {
            concert::dispatcher.send(&scanner, "job");
        }
        return 0;
    }
    if (argc > 1 && std::string_view(argv[1]) == "stepping") {
        concert::dispatcher.subscribe(&machine, "step", step);
        late.armed = true;
        concert::dispatcher.send(&machine, "step");
        return 0;
    }
    // Registered before the pool and the dispatcher exist, so it runs after both have shut down.
    std::atexit(print_outcome);
    const std::string_view order = argc > 1 ? argv[1] : "pool-first";
    if (order == "pool-first") {
        concert::default_pool();
    }
    concert::dispatcher.subscribe(&detector, "frame", [](const void*) { ++handled; });
    for (int i = 0; i < posted_tasks; ++i) {
        concert::post(acquire_and_announce);
    }
    // A future nobody waits for, and a task whose exception only the error handler can see.
    static_cast<void>(concert::submit(acquire_and_announce));
    concert::post([] { throw std::runtime_error("shutter jammed at exit"); });
    return 0;
}
