// The binder's checks of declared constraints (<keel/constraints.hpp>), in pydantic's words and
// error types, so that a FastAPI client reads keel's 422 as it reads FastAPI's.

#include <keel/codec.hpp>
#include <keel/detail/field_rules.hpp>

#include <re2/re2.h>

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>

namespace keel::detail {

class compiled_pattern {
public:
    explicit compiled_pattern(std::string_view regex)
        : re_(re2::StringPiece(regex.data(), regex.size()), options()) {
        if (!re_.ok())
            throw std::invalid_argument("keel: the constraint pattern \"" + std::string(regex) +
                                        "\" is not a regular expression RE2 reads: " + re_.error());
    }
    bool found_in(std::string_view text) const {
        return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re_);
    }

private:
    static RE2::Options options() {
        RE2::Options o;
        o.set_log_errors(false);  // the exception says it
        return o;
    }
    RE2 re_;
};

const compiled_pattern& compile_pattern(std::string_view regex) {
    // Called once per declaration (the caller keeps the reference), and by the OpenAPI document
    // to refuse a bad pattern when the app is built: not on a request's path.
    static std::mutex lock;
    static std::map<std::string, std::unique_ptr<compiled_pattern>, std::less<>> compiled;
    const std::scoped_lock guard(lock);
    auto found = compiled.find(regex);
    if (found == compiled.end())
        found = compiled.emplace(std::string(regex), std::make_unique<compiled_pattern>(regex)).first;
    return *found->second;
}

namespace {

// Exact on x86-64 and AArch64, whose long double holds every int64, uint64 and double.
long double as_wide(const number_limit& limit) {
    return limit.integral ? static_cast<long double>(limit.integer) : static_cast<long double>(limit.real);
}

std::string limit_text(const number_limit& limit) {
    std::string out;
    if (limit.integral) {
        format_signed(out, limit.integer);
    } else {
        format_floating(out, limit.real);
    }
    return out;
}

void add(std::vector<field_error>& errors, const std::vector<std::string>& loc, std::string msg,
         const char* type) {
    errors.push_back({loc, std::move(msg), type});
}

// The bounds, in pydantic's order; true when one failed (a value reports its first failure).
bool breaks_bounds(long double value, const field_rules& rules, const std::vector<std::string>& loc,
                   std::vector<field_error>& errors) {
    // Written as !(value > bound): NaN (a query's "nan") passes no bound.
    if (rules.gt.set && !(value > as_wide(rules.gt.limit))) {
        add(errors, loc, "ensure this value is greater than " + limit_text(rules.gt.limit),
            "value_error.number.not_gt");
    } else if (rules.ge.set && !(value >= as_wide(rules.ge.limit))) {
        add(errors, loc, "ensure this value is greater than or equal to " + limit_text(rules.ge.limit),
            "value_error.number.not_ge");
    } else if (rules.lt.set && !(value < as_wide(rules.lt.limit))) {
        add(errors, loc, "ensure this value is less than " + limit_text(rules.lt.limit),
            "value_error.number.not_lt");
    } else if (rules.le.set && !(value <= as_wide(rules.le.limit))) {
        add(errors, loc, "ensure this value is less than or equal to " + limit_text(rules.le.limit),
            "value_error.number.not_le");
    } else {
        return false;
    }
    return true;
}

// A quotient within a relative 1e-9 of a whole number: 0.3 is a multiple of 0.1.
bool is_multiple(long double value, const number_limit& step) {
    const long double quotient = value / as_wide(step);
    const long double nearest = std::nearbyint(quotient);
    return std::fabs(quotient - nearest) <= 1e-9L * std::fmax(1.0L, std::fabs(quotient));
}

// The bounds, then the step: an integer against an integer step exactly (a positive one:
// multiple_of refuses any other), anything else within is_multiple's tolerance.
template <class V>
void check_number(V value, const field_rules& rules, const std::vector<std::string>& loc,
                  std::vector<field_error>& errors) {
    const auto wide = static_cast<long double>(value);
    if (breaks_bounds(wide, rules, loc, errors) || !rules.multiple_of.set) return;
    const auto& step = rules.multiple_of.limit;
    bool ok = false;
    if constexpr (std::is_integral_v<V>) {
        ok = step.integral ? value % static_cast<V>(step.integer) == 0 : is_multiple(wide, step);
    } else {
        ok = is_multiple(wide, step);
    }
    if (!ok)
        add(errors, loc, "ensure this value is a multiple of " + limit_text(step),
            "value_error.number.not_multiple");
}

std::size_t characters(std::string_view text) {
    std::size_t count = 0;
    for (unsigned char c : text) count += (c & 0xC0U) != 0x80U;  // UTF-8: continuation bytes are no character
    return count;
}

void check_size(std::size_t size, std::size_t min, std::size_t max, const char* unit, const char* min_type,
                const char* max_type, const std::vector<std::string>& loc, std::vector<field_error>& errors) {
    if (size < min) {
        add(errors, loc, "ensure this value has at least " + std::to_string(min) + " " + unit, min_type);
    } else if (size > max) {
        add(errors, loc, "ensure this value has at most " + std::to_string(max) + " " + unit, max_type);
    }
}

}  // namespace

void check_signed(std::int64_t value, const field_rules& rules, const std::vector<std::string>& loc,
                  std::vector<field_error>& errors) {
    check_number(value, rules, loc, errors);
}

void check_unsigned(std::uint64_t value, const field_rules& rules, const std::vector<std::string>& loc,
                    std::vector<field_error>& errors) {
    check_number(value, rules, loc, errors);
}

void check_real(double value, const field_rules& rules, const std::vector<std::string>& loc,
                std::vector<field_error>& errors) {
    check_number(value, rules, loc, errors);
}

void check_string(std::string_view value, const field_rules& rules, const compiled_pattern* pattern,
                  const std::vector<std::string>& loc, std::vector<field_error>& errors) {
    const auto before = errors.size();
    check_size(characters(value), rules.min_length, rules.max_length, "characters",
               "value_error.any_str.min_length", "value_error.any_str.max_length", loc, errors);
    if (errors.size() == before && pattern && !pattern->found_in(value))
        add(errors, loc, "string does not match regex \"" + std::string(rules.pattern) + "\"",
            "value_error.str.regex");
}

void check_items(std::size_t count, const field_rules& rules, const std::vector<std::string>& loc,
                 std::vector<field_error>& errors) {
    check_size(count, rules.min_items, rules.max_items, "items", "value_error.list.min_items",
               "value_error.list.max_items", loc, errors);
}

}  // namespace keel::detail
