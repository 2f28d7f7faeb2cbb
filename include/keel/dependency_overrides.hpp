#pragma once

#include <keel/depends.hpp>
#include <keel/detail/dependency_graph.hpp>
#include <keel/detail/signature.hpp>
#include <keel/detail/type_name.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>

namespace keel {

namespace detail {
template <class T, class F>
T& resolve_provider(const F& provider, call_context& ctx, std::uintptr_t key, keel::scope lifetime);
template <class F>
std::vector<dependency_node> dependency_children();

/// Checks an override's dependencies when it is set; throws std::logic_error naming the problem.
using override_checker =
    std::function<void(std::uintptr_t key, std::string_view name, const override_entry&)>;
}  // namespace detail

/// Replacements for providers, keyed by the provider itself, mostly for tests:
/// ```
/// app.dependency_overrides.set(get_session, use_test_session);
/// auto restore = app.dependency_overrides.scoped(get_settings, test_settings);  // undone at scope end
/// ```
/// A replacement is any callable whose parameters are injected like a provider's and which
/// makes the same type; it applies wherever the provider is used, inside other providers too,
/// with the original's scope. Set overrides while no request is running. An app's overrides
/// are checked when set (once the app is built; before, when it is built): a replacement that
/// asks for the provider it replaces, or for a service nobody provides, is refused with
/// std::logic_error.
class dependency_overrides {
public:
    class guard;

    dependency_overrides();
    /// Overrides whose replacements `checker` inspects as they are set (an app's).
    explicit dependency_overrides(detail::override_checker checker);
    dependency_overrides(const dependency_overrides&) = delete;
    dependency_overrides& operator=(const dependency_overrides&) = delete;
    ~dependency_overrides();

    template <class R, class... A, class F>
    void set(R (*provider)(A...), F replacement) {
        using value_type = typename detail::provided_type<std::remove_cvref_t<R>>::type;
        static_assert(detail::provides<value_type, detail::signature_result<F>>,
                      "keel: dependency_overrides: the replacement must make what the provider it replaces "
                      "makes (the same T, a std::unique_ptr<T> or std::shared_ptr<T>, or a keel::yield<T>)");
        const auto key = detail::provider_key(provider);
        detail::override_entry entry;
        entry.children = &detail::dependency_children<F>;
        entry.resolve = [replacement = std::move(replacement), key](detail::call_context& ctx,
                                                                    keel::scope lifetime) -> void* {
            return &detail::resolve_provider<value_type>(replacement, ctx, key, lifetime);
        };
        put(key, detail::type_name<value_type>(), std::move(entry));
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
    std::shared_ptr<const detail::override_entry> find(std::uintptr_t key) const;

private:
    void put(std::uintptr_t key, std::string_view name, detail::override_entry entry);
    void restore(std::uintptr_t key, std::shared_ptr<const detail::override_entry> previous);
    void erase(std::uintptr_t key);

    struct table;  // the overrides and their lock (src/di/dependency_overrides.cpp)

    detail::override_checker checker_;
    std::unique_ptr<table> table_;
};

/// Restores a provider's previous override (or none) when destroyed.
class dependency_overrides::guard {
public:
    guard(dependency_overrides& owner, std::uintptr_t key,
          std::shared_ptr<const detail::override_entry> previous)
        : owner_(&owner), key_(key), previous_(std::move(previous)) {}
    guard(guard&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          key_(other.key_),
          previous_(std::move(other.previous_)) {}
    guard& operator=(guard&&) = delete;
    ~guard() {
        if (owner_) owner_->restore(key_, std::move(previous_));
    }

private:
    dependency_overrides* owner_;
    std::uintptr_t key_;
    std::shared_ptr<const detail::override_entry> previous_;
};

template <class R, class... A, class F>
dependency_overrides::guard dependency_overrides::scoped(R (*provider)(A...), F replacement) {
    const auto key = detail::provider_key(provider);
    auto previous = find(key);
    set(provider, std::move(replacement));
    return guard(*this, key, std::move(previous));
}

}  // namespace keel
