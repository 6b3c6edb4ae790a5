// Ready consumers that end a pipe: discard items, count them, keep the last one, append them to a
// container. Pass one as an lvalue to keep reading it after the pipe ran.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>

namespace concert {

// Takes every item and drops it.
template <class T>
class discard {
  public:
    using item_type = T;
    void send(const T& /*item*/) const noexcept {}
};

// Counts the items it took.
template <class T>
class counter {
  public:
    using item_type = T;
    void send(const T& /*item*/) noexcept { ++count_; }
    std::size_t count() const noexcept { return count_; }

  private:
    std::size_t count_ = 0;
};

// Keeps the last item it took (Concert's `Result`).
template <class T>
class last_item {
  public:
    using item_type = T;
    void send(const T& item) { value_ = item; }
    void send(T&& item) { value_ = std::move(item); }
    // Empty until the first item arrives.
    const std::optional<T>& value() const noexcept { return value_; }

  private:
    std::optional<T> value_;
};

// Appends every item at the end of a container the caller owns (Concert's `Accumulate`).
template <class Container>
class appender {
  public:
    using item_type = typename Container::value_type;
    explicit appender(Container& container) noexcept : container_(&container) {}
    void send(const item_type& item) { container_->insert(container_->end(), item); }
    void send(item_type&& item) { container_->insert(container_->end(), std::move(item)); }

  private:
    Container* container_;
};

template <class Container>
appender<Container> append_to(Container& container) noexcept {
    return appender<Container>(container);
}

}  // namespace concert
