#pragma once

// The app's services (app.provide<T>(...)), and the door to its overrides, as dependency
// resolution sees them. Private to keel.

#include <keel/dependency_overrides.hpp>
#include <keel/detail/dependency_graph.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keel::detail {

class service_registry final : public dependency_registry {
public:
    explicit service_registry(const keel::dependency_overrides& overrides) : overrides_(overrides) {}
    ~service_registry() { destroy_all(); }
    service_registry(const service_registry&) = delete;
    service_registry& operator=(const service_registry&) = delete;

    /// Destroys the app-scoped services newest first (each may use the ones made before it);
    /// they are made again on next use (a restarted app).
    void destroy_all() noexcept;

    /// Registers a service; std::logic_error when its type is provided twice.
    void add(service_definition definition);
    /// The definition for type key `key`, or null.
    const service_definition* find(std::uintptr_t key) const;
    /// The app-scoped service of type key `key` if it has been made, kept alive while the
    /// caller holds it; null otherwise (never makes one). For the metrics page.
    std::shared_ptr<void> existing(std::uintptr_t key) const;
    /// Every registered service, in no particular order.
    std::vector<const service_definition*> all() const;

    void* service(std::uintptr_t key, std::string_view name, call_context& ctx) const override;
    std::shared_ptr<const override_entry> override_for(std::uintptr_t key) const override;

private:
    struct service_slot {
        service_definition definition;
        std::mutex mutex;
        std::atomic<void*> instance{nullptr};
    };

    const keel::dependency_overrides& overrides_;
    std::unordered_map<std::uintptr_t, std::unique_ptr<service_slot>> services_;
    mutable std::mutex created_mutex_;
    mutable std::vector<std::shared_ptr<void>> created_;
};

}  // namespace keel::detail
