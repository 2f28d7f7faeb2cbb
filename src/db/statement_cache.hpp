#pragma once

// The statements prepared on one pooled connection, by their text, bounded: the least recently
// used one is DEALLOCATEd to make room, so that a service building SQL at run time does not
// grow every connection (and its server process) without end. Private to keel.
//
// Names are `keel_N`, N counting up per connection and never reused: a statement whose
// DEALLOCATE did not take effect keeps its name and its place, so the cache never names a
// statement the server does not hold, nor the other way round.

#include <cstddef>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace keel::detail {

class statement_cache {
public:
    /// `capacity` 0: nothing is prepared (every statement is sent unnamed).
    explicit statement_cache(std::size_t capacity = 256) noexcept : capacity_(capacity) {}

    bool enabled() const noexcept { return capacity_ > 0; }

    /// The name `sql` is prepared under, marked most recently used; null when it is not.
    const std::string* find(std::string_view sql);
    /// A fresh name for a statement about to be prepared.
    std::string next_name() { return "keel_" + std::to_string(++named_); }
    /// The statement to DEALLOCATE before one more is prepared (the least recently used, when
    /// the cache is full); null when there is room.
    const std::string* victim() const noexcept;
    /// Its DEALLOCATE took effect.
    void drop_victim();
    /// The DEALLOCATE of the statement prepared as `name` took effect (wherever it now stands).
    void drop(std::string_view name);
    /// `sql` is now prepared on the server as `name`.
    void add(std::string sql, std::string name);

private:
    struct entry {
        std::string sql;
        std::string name;
    };
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const noexcept {
            return std::hash<std::string_view>{}(text);
        }
    };

    std::size_t capacity_;
    unsigned long long named_ = 0;
    std::list<entry> entries_;  // most recently used first
    std::unordered_map<std::string_view, std::list<entry>::iterator, text_hash, std::equal_to<>> by_text_;
};

}  // namespace keel::detail
