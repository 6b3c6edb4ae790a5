// What the Tango bridge's tests record of change events: the values of one message of one device,
// as a dispatcher delivers them, and a future for the first value that satisfies a condition.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <concert/concert.hpp>
#include <concert/tango.hpp>

namespace concert::tango_testing {

// How long a test waits for an event it expects: generous, for loaded machines and sanitizers.
constexpr auto event_timeout = std::chrono::seconds(30);

// The values of one message of one device, as a dispatcher's handler receives them, with a future
// that completes once a value satisfies a condition. Thread-safe: the handler runs on the
// dispatcher's thread (or Tango's, inline, with async disabled).
template <class T>
class recorder {
  public:
    recorder(concert::Dispatcher& dispatcher, concert::tango::device& dev, const std::string& name)
        : subscription_(dispatcher.subscribe(
              &dev, name, [this](concert::tango::device*, const T& value) { record(value); })) {}

    // Completes with the first value from now on for which `condition` holds.
    template <class Condition>
    concert::future<void> when(Condition condition) {
        const std::lock_guard lock(mutex_);
        awaited_.emplace();
        condition_ = condition;
        return awaited_->get_future();
    }

    std::vector<T> values() const {
        const std::lock_guard lock(mutex_);
        return values_;
    }

  private:
    void record(const T& value) {
        const std::lock_guard lock(mutex_);
        values_.push_back(value);
        if (awaited_ && condition_(value)) {
            awaited_->try_set_value();
        }
    }

    mutable std::mutex mutex_;
    std::vector<T> values_;
    std::optional<concert::promise<void>> awaited_;
    std::function<bool(const T&)> condition_;
    concert::scoped_subscription subscription_;  // last: unsubscribed before the rest goes
};

}  // namespace concert::tango_testing
