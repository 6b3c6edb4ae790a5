// ThreadSanitizer's defaults for the Tango test programs, linked into them when CONCERT_SANITIZE
// is thread (TSAN_OPTIONS in the environment adds to them). Tango, omniORB and ZeroMQ are not
// instrumented: they hand memory between their threads through ZeroMQ's lock-free queues and
// omniORB's workers in ways TSan cannot see, so the accesses their own calls to intercepted
// functions (strlen, memcpy, free) make are not checked. Every access of concert's own,
// instrumented code still is, and their locks still order it. Tango's omni_threads that finish
// unjoined are not reported as leaks; any other thread still is.
extern "C" const char* __tsan_default_options() {
    return "ignore_noninstrumented_modules=1";
}

extern "C" const char* __tsan_default_suppressions() {
    return "thread:omni_thread::start\n";
}
