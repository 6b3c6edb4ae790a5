// Coroutine pipes, all at once: generators produce, primed consumer coroutines consume, inject and
// broadcast connect them, buffered stages decouple them, sinks and filters are ready consumers.
#pragma once

#include "buffered.hpp"
#include "consumer.hpp"
#include "coroutine.hpp"
#include "generator.hpp"
#include "pipes.hpp"
#include "sinks.hpp"
