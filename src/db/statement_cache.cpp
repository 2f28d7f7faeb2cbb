#include "db/statement_cache.hpp"

namespace keel::detail {

const std::string* statement_cache::find(std::string_view sql) {
    const auto found = by_text_.find(sql);
    if (found == by_text_.end()) return nullptr;
    if (found->second != entries_.begin()) entries_.splice(entries_.begin(), entries_, found->second);
    return &found->second->name;
}

const std::string* statement_cache::victim() const noexcept {
    if (entries_.empty() || entries_.size() < capacity_) return nullptr;
    return &entries_.back().name;
}

void statement_cache::drop(std::string_view name) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->name == name) {
            by_text_.erase(std::string_view(it->sql));
            entries_.erase(it);
            return;
        }
    }
}

void statement_cache::drop_victim() {
    if (entries_.empty()) return;
    by_text_.erase(std::string_view(entries_.back().sql));
    entries_.pop_back();
}

void statement_cache::add(std::string sql, std::string name) {
    entries_.push_front({std::move(sql), std::move(name)});
    by_text_.emplace(std::string_view(entries_.front().sql), entries_.begin());
}

}  // namespace keel::detail
