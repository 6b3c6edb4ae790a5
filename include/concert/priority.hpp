// concert::priority: the order in which a pool starts queued tasks. A stop command submitted at
// high priority runs before a hundred queued position reads.
#pragma once

namespace concert {

/// The order in which a pool starts queued tasks. A pool starts every queued high task before any
/// normal one, and every normal one before any low one; within one priority, in submission order.
/// There is no ageing: a low task waits as long as normal tasks keep coming. A plain enum: nothing
/// throws, and copies are thread-safe.
enum class priority { low, normal, high };

}  // namespace concert
