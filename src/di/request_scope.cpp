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
    teardowns_.push_back({std::move(teardown), {}, false});
}

void request_scope::on_finish_awaiting(std::function<task<std::exception_ptr>(std::exception_ptr)> teardown) {
    teardowns_.push_back({{}, std::move(teardown), true});
}

std::exception_ptr request_scope::finish_blocking(std::exception_ptr outcome) noexcept {
    // Newest first: a value is torn down before the ones it was built from.
    while (!teardowns_.empty() && !teardowns_.back().awaited) {
        auto teardown = std::move(teardowns_.back().run);
        teardowns_.pop_back();
        try {
            // A teardown that failed after a success turns the request into a failure; one
            // that swallowed a failure hides it from the older teardowns only.
            outcome = teardown(outcome);
        } catch (...) {
            outcome = std::current_exception();
        }
    }
    return outcome;
}

task<std::exception_ptr> request_scope::finish_next_awaited(std::exception_ptr outcome) {
    auto teardown = std::move(teardowns_.back().awaited_run);
    teardowns_.pop_back();
    try {
        outcome = co_await teardown(outcome);
    } catch (...) {
        outcome = std::current_exception();
    }
    co_return outcome;
}

void request_scope::release_values() noexcept {
    // Values go newest first too, after every teardown that might still use them.
    cache_.clear();
    while (!owned_.empty()) {
        auto v = owned_.back();
        owned_.pop_back();
        v.destroy(v.object);
    }
}

std::exception_ptr request_scope::finish(std::exception_ptr outcome) noexcept {
    for (;;) {
        outcome = finish_blocking(outcome);
        if (teardowns_.empty()) break;
        // An awaited teardown on a path that cannot await: its value is destroyed without it
        // (a session then closes its connection, which rolls back), and the request fails.
        teardowns_.pop_back();
        outcome = std::make_exception_ptr(std::logic_error(
            "keel: a teardown that awaits (keel::async_yield) was reached where nothing can await it"));
    }
    release_values();
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
