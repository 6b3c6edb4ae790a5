// Ready consumers that end a pipe: discard items, count them, keep the last one, append them to a
// container. Pass one as an lvalue to keep reading it after the pipe ran.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>

namespace concert {

/// Takes every item and drops it. Never throws; thread-safe (it has no state).
template <class T>
class discard {
  public:
    /// The type of the items it takes.
    using item_type = T;
    /// Drops `item`. Never throws.
    void send(const T& /*item*/) const noexcept {}
};

/// Counts the items it took. Never throws. Not thread-safe: one thread at a time sends to it, and
/// count() is read once the pipe has run.
template <class T>
class counter {
  public:
    /// The type of the items it takes.
    using item_type = T;
    /// Counts one more item. Never throws.
    void send(const T& /*item*/) noexcept { ++count_; }
    /// How many items it took so far. Never throws.
    std::size_t count() const noexcept { return count_; }

  private:
    std::size_t count_ = 0;
};

/// Keeps the last item it took (Concert's `Result`). Not thread-safe: one thread at a time sends to
/// it, and value() is read once the pipe has run.
template <class T>
class last_item {
  public:
    /// The type of the items it takes.
    using item_type = T;
    /// Keeps a copy of `item` in place of the previous one; throws what copying it throws.
    void send(const T& item) { value_ = item; }
    /// Keeps `item`, moved, in place of the previous one; throws what moving it throws.
    void send(T&& item) { value_ = std::move(item); }
    /// The last item taken; empty until the first item arrives. Never throws.
    const std::optional<T>& value() const noexcept { return value_; }

  private:
    std::optional<T> value_;
};

/// Appends every item at the end of a container the caller owns (Concert's `Accumulate`). Not
/// thread-safe: one thread at a time sends to it, and nobody else touches the container meanwhile.
template <class Container>
class appender {
  public:
    /// The type of the items it takes: the container's `value_type`.
    using item_type = typename Container::value_type;
    /// Appends to `container`, which must outlive it. Never throws.
    explicit appender(Container& container) noexcept : container_(&container) {}
    /// Appends a copy of `item`; throws what the container's insert throws.
    void send(const item_type& item) { container_->insert(container_->end(), item); }
    /// Appends `item`, moved; throws what the container's insert throws.
    void send(item_type&& item) { container_->insert(container_->end(), std::move(item)); }

  private:
    Container* container_;
};

/// An appender to `container` (see appender), which must outlive it. Never throws; thread-safe.
template <class Container>
appender<Container> append_to(Container& container) noexcept {
    return appender<Container>(container);
}

}  // namespace concert
