// Everything public in concert-cpp.
#pragma once

#include <concert/version.hpp>
#include "async.hpp"
#include "blocking.hpp"
#include "coroutines.hpp"
#include "disable.hpp"
#include "dispatcher.hpp"
#include "errors.hpp"
#include "future.hpp"
#include "inline_executor.hpp"
#include "priority.hpp"
#include "promise.hpp"
#include "thread_pool.hpp"
// The Tango bridge needs Tango's headers and library: only for those who link concert::tango
// (which defines CONCERT_HAS_TANGO).
#if defined(CONCERT_HAS_TANGO)
#include "tango.hpp"
#endif
