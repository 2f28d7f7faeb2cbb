#pragma once

#include <keel/detail/dependency_graph.hpp>
#include <keel/detail/type_name.hpp>
#include <keel/depends.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace keel {

namespace detail {
template <class T, class F>
T& resolve_provider(const F& provider, call_context& ctx, std::uintptr_t key, keel::scope lifetime);
}

/// Replacements for providers, keyed by the provider itself, mostly for tests:
/// ```
/// app.dependency_overrides.set(get_session, use_test_session);
/// auto restore = app.dependency_overrides.scoped(get_settings, test_settings);  // undone at scope end
/// ```
/// A replacement is any callable whose parameters are injected like a provider's and which
/// makes the same type; it applies wherever the provider is used, inside other providers too,
/// with the original's scope. Set overrides while no request is running.
class dependency_overrides {
public:
    class guard;

    template <class R, class... A, class F>
    void set(R (*provider)(A...), F replacement) {
        using value_type = typename detail::provided_type<std::remove_cvref_t<R>>::type;
        put(detail::provider_key(provider),
            [replacement = std::move(replacement), key = detail::provider_key(provider)](
                detail::call_context& ctx, keel::scope lifetime) -> void* {
                return &detail::resolve_provider<value_type>(replacement, ctx, key, lifetime);
            });
    }

    /// Sets an override until the returned guard is destroyed, then restores what was there.
    template <class R, class... A, class F>
    [[nodiscard]] guard scoped(R (*provider)(A...), F replacement);

    template <class R, class... A>
    void reset(R (*provider)(A...)) {
        erase(detail::provider_key(provider));
    }
    void clear();
    bool empty() const;

    /// The override for `key`, or null.
    std::shared_ptr<const detail::override_resolver> find(std::uintptr_t key) const;

private:
    void put(std::uintptr_t key, detail::override_resolver resolver);
    void restore(std::uintptr_t key, std::shared_ptr<const detail::override_resolver> previous);
    void erase(std::uintptr_t key);

    mutable std::mutex mutex_;
    std::atomic<bool> any_{false};  // lets find() skip the lock while no override is set
    std::unordered_map<std::uintptr_t, std::shared_ptr<const detail::override_resolver>> overrides_;
};

/// Restores a provider's previous override (or none) when destroyed.
class dependency_overrides::guard {
public:
    guard(dependency_overrides& owner, std::uintptr_t key, std::shared_ptr<const detail::override_resolver> previous)
        : owner_(&owner), key_(key), previous_(std::move(previous)) {}
    guard(guard&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), key_(other.key_), previous_(std::move(other.previous_)) {}
    guard& operator=(guard&&) = delete;
    ~guard() {
        if (owner_) owner_->restore(key_, std::move(previous_));
    }

private:
    dependency_overrides* owner_;
    std::uintptr_t key_;
    std::shared_ptr<const detail::override_resolver> previous_;
};

template <class R, class... A, class F>
dependency_overrides::guard dependency_overrides::scoped(R (*provider)(A...), F replacement) {
    const auto key = detail::provider_key(provider);
    auto previous = find(key);
    set(provider, std::move(replacement));
    return guard(*this, key, std::move(previous));
}

}  // namespace keel
