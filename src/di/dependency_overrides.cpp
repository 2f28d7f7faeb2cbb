#include <keel/dependency_overrides.hpp>

namespace keel {

void dependency_overrides::put(std::uintptr_t key, std::string_view name, detail::override_entry entry) {
    if (checker_) checker_(key, name, entry);  // throws before anything changes
    auto shared = std::make_shared<const detail::override_entry>(std::move(entry));
    std::lock_guard lock(mutex_);
    overrides_[key] = std::move(shared);
    any_ = true;
}

void dependency_overrides::restore(std::uintptr_t key,
                                   std::shared_ptr<const detail::override_entry> previous) {
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

std::shared_ptr<const detail::override_entry> dependency_overrides::find(std::uintptr_t key) const {
    if (!any_.load(std::memory_order_acquire)) return nullptr;
    std::lock_guard lock(mutex_);
    const auto it = overrides_.find(key);
    return it == overrides_.end() ? nullptr : it->second;
}

}  // namespace keel
