#include <keel/detail/request_scope.hpp>

#include <stdexcept>

namespace keel::detail {

void* request_scope::find(std::uintptr_t key) const noexcept {
    for (const auto& c : cache_) {
        if (c.key == key) return c.object;
    }
    return nullptr;
}

void request_scope::on_finish(std::function<std::exception_ptr(std::exception_ptr)> teardown) {
    teardowns_.push_back(std::move(teardown));
}

std::exception_ptr request_scope::finish(std::exception_ptr outcome) noexcept {
    // Newest first: a value is torn down before the ones it was built from.
    while (!teardowns_.empty()) {
        auto teardown = std::move(teardowns_.back());
        teardowns_.pop_back();
        try {
            auto after = teardown(outcome);
            // A teardown that failed after a success turns the request into a failure; one
            // that swallowed a failure hides it from the older teardowns only.
            outcome = after;
        } catch (...) {
            outcome = std::current_exception();
        }
    }
    // Values go newest first too, after every teardown that might still use them.
    cache_.clear();
    while (!owned_.empty()) {
        auto v = owned_.back();
        owned_.pop_back();
        v.destroy(v.object);
    }
    return outcome;
}

request_scope::~request_scope() {
    if (!teardowns_.empty()) {
        finish(std::make_exception_ptr(
            std::runtime_error("keel: request abandoned before its handler finished")));
    } else {
        finish(nullptr);
    }
}

}  // namespace keel::detail
