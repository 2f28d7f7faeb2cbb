#include <keel/dependency_overrides.hpp>

namespace keel {

void dependency_overrides::put(std::uintptr_t key, detail::override_resolver resolver) {
    auto shared = std::make_shared<const detail::override_resolver>(std::move(resolver));
    std::lock_guard lock(mutex_);
    overrides_[key] = std::move(shared);
    any_ = true;
}

void dependency_overrides::restore(std::uintptr_t key, std::shared_ptr<const detail::override_resolver> previous) {
    std::lock_guard lock(mutex_);
    if (previous) {
        overrides_[key] = std::move(previous);
    } else {
        overrides_.erase(key);
    }
    any_ = !overrides_.empty();
}

void dependency_overrides::erase(std::uintptr_t key) {
    std::lock_guard lock(mutex_);
    overrides_.erase(key);
    any_ = !overrides_.empty();
}

void dependency_overrides::clear() {
    std::lock_guard lock(mutex_);
    overrides_.clear();
    any_ = false;
}

bool dependency_overrides::empty() const {
    std::lock_guard lock(mutex_);
    return overrides_.empty();
}

std::shared_ptr<const detail::override_resolver> dependency_overrides::find(std::uintptr_t key) const {
    if (!any_.load(std::memory_order_acquire)) return nullptr;
    std::lock_guard lock(mutex_);
    const auto it = overrides_.find(key);
    return it == overrides_.end() ? nullptr : it->second;
}

}  // namespace keel
