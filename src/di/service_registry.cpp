#include "di/service_registry.hpp"

#include <stdexcept>
#include <string>

namespace keel::detail {

void service_registry::destroy_all() noexcept {
    std::lock_guard created_lock(created_mutex_);
    for (auto& [key, slot] : services_) slot->instance.store(nullptr);
    while (!created_.empty()) created_.pop_back();
}

void service_registry::add(service_definition definition) {
    const auto key = definition.key;
    const auto name = definition.name;
    auto slot = std::make_unique<service_slot>();
    slot->definition = std::move(definition);
    if (!services_.emplace(key, std::move(slot)).second) {
        throw std::logic_error("keel: " + std::string(name) + " is provided twice");
    }
}

std::shared_ptr<void> service_registry::existing(std::uintptr_t key) const {
    const auto it = services_.find(key);
    if (it == services_.end()) return nullptr;
    std::lock_guard created_lock(created_mutex_);
    void* made = it->second->instance.load(std::memory_order_acquire);
    if (made == nullptr) return nullptr;
    for (const auto& owner : created_) {
        if (owner.get() == made) return owner;
    }
    return nullptr;
}

const service_definition* service_registry::find(std::uintptr_t key) const {
    const auto it = services_.find(key);
    return it == services_.end() ? nullptr : &it->second->definition;
}

std::vector<const service_definition*> service_registry::all() const {
    std::vector<const service_definition*> out;
    out.reserve(services_.size());
    for (const auto& [key, slot] : services_) out.push_back(&slot->definition);
    return out;
}

void* service_registry::service(std::uintptr_t key, std::string_view name, call_context& ctx) const {
    const auto it = services_.find(key);
    if (it == services_.end()) {
        throw std::logic_error("keel: no provider for " + std::string(name) +
                               "; register one with app.provide<" + std::string(name) + ">(...)");
    }
    auto& slot = *it->second;
    if (slot.definition.lifetime != scope::app) return slot.definition.resolve(ctx);
    if (void* made = slot.instance.load(std::memory_order_acquire)) return made;
    std::lock_guard lock(slot.mutex);  // one maker per service; another service's factory takes its own lock
    if (void* made = slot.instance.load(std::memory_order_relaxed)) return made;
    auto made = slot.definition.make_app(ctx);
    {
        std::lock_guard created_lock(created_mutex_);
        created_.push_back(made);
    }
    slot.instance.store(made.get(), std::memory_order_release);
    return made.get();
}

std::shared_ptr<const override_entry> service_registry::override_for(std::uintptr_t key) const {
    return overrides_.find(key);
}

void throw_null_provider(std::string_view type) {
    throw std::logic_error("keel: a provider of " + std::string(type) + " returned null");
}

}  // namespace keel::detail
