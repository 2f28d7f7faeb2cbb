#pragma once

#include <utility>

namespace keel::detail {

// The value-holder behind keel::path, query, header and body: use it like the value.
template <class T>
class param_value {
public:
    using value_type = T;

    explicit param_value(T value) : value_(std::move(value)) {}

    const T& value() const& noexcept { return value_; }
    T& value() & noexcept { return value_; }
    T&& value() && noexcept { return std::move(value_); }
    const T& operator*() const& noexcept { return value_; }
    T& operator*() & noexcept { return value_; }
    T&& operator*() && noexcept { return std::move(value_); }
    const T* operator->() const noexcept { return &value_; }
    T* operator->() noexcept { return &value_; }
    operator const T&() const& noexcept { return value_; }  // NOLINT: reads like the value itself

private:
    T value_;
};

}  // namespace keel::detail
