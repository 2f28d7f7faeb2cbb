#include <keel/dependency_overrides.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace keel {

struct dependency_overrides::table {
    mutable std::mutex mutex;
    std::atomic<bool> any{false};  // lets find() skip the lock while no override is set
    std::unordered_map<std::uintptr_t, std::shared_ptr<const detail::override_entry>> overrides;
};

dependency_overrides::dependency_overrides() : table_(std::make_unique<table>()) {}
dependency_overrides::dependency_overrides(detail::override_checker checker)
    : checker_(std::move(checker)), table_(std::make_unique<table>()) {}
dependency_overrides::~dependency_overrides() = default;

void dependency_overrides::put(std::uintptr_t key, std::string_view name, detail::override_entry entry) {
    if (checker_) checker_(key, name, entry);  // throws before anything changes
    auto shared = std::make_shared<const detail::override_entry>(std::move(entry));
    std::lock_guard lock(table_->mutex);
    table_->overrides[key] = std::move(shared);
    table_->any = true;
}

void dependency_overrides::restore(std::uintptr_t key,
                                   std::shared_ptr<const detail::override_entry> previous) {
    std::lock_guard lock(table_->mutex);
    if (previous) {
        table_->overrides[key] = std::move(previous);
    } else {
        table_->overrides.erase(key);
    }
    table_->any = !table_->overrides.empty();
}

void dependency_overrides::erase(std::uintptr_t key) {
    std::lock_guard lock(table_->mutex);
    table_->overrides.erase(key);
    table_->any = !table_->overrides.empty();
}

void dependency_overrides::clear() {
    std::lock_guard lock(table_->mutex);
    table_->overrides.clear();
    table_->any = false;
}

bool dependency_overrides::empty() const {
    std::lock_guard lock(table_->mutex);
    return table_->overrides.empty();
}

std::shared_ptr<const detail::override_entry> dependency_overrides::find(std::uintptr_t key) const {
    if (!table_->any.load(std::memory_order_acquire)) return nullptr;
    std::lock_guard lock(table_->mutex);
    const auto it = table_->overrides.find(key);
    return it == table_->overrides.end() ? nullptr : it->second;
}

}  // namespace keel
