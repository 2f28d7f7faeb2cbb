#include <keel/decimal.hpp>
#include <keel/schema.hpp>

#include <algorithm>
#include <charconv>
#include <vector>

namespace keel {

namespace {

// PostgreSQL's numeric holds up to 131072 digits before the point and 16383 after.
constexpr std::int64_t max_integer_digits = 131'072;
constexpr std::int64_t max_scale = 16'383;

std::string strip_leading_zeros(std::string digits) {
    const auto first = digits.find_first_not_of('0');
    if (first == std::string::npos) return "0";
    digits.erase(0, first);
    return digits;
}

// a * 10^shift, as digits.
std::string shifted(const std::string& digits, std::uint32_t shift) {
    if (digits == "0") return digits;
    return digits + std::string(shift, '0');
}

int compare_magnitude(const std::string& a, const std::string& b) noexcept {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    const int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string add_magnitudes(const std::string& a, const std::string& b) {
    std::string out;
    int carry = 0;
    for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
        const int x = i < a.size() ? a[a.size() - 1 - i] - '0' : 0;
        const int y = i < b.size() ? b[b.size() - 1 - i] - '0' : 0;
        const int sum = x + y + carry;
        out += static_cast<char>('0' + sum % 10);
        carry = sum / 10;
    }
    std::reverse(out.begin(), out.end());
    return strip_leading_zeros(std::move(out));
}

// a - b, for |a| >= |b|.
std::string subtract_magnitudes(const std::string& a, const std::string& b) {
    std::string out;
    int borrow = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        int x = a[a.size() - 1 - i] - '0' - borrow;
        const int y = i < b.size() ? b[b.size() - 1 - i] - '0' : 0;
        borrow = x < y;
        if (borrow) x += 10;
        out += static_cast<char>('0' + x - y);
    }
    std::reverse(out.begin(), out.end());
    return strip_leading_zeros(std::move(out));
}

std::string multiply_magnitudes(const std::string& a, const std::string& b) {
    std::vector<int> sum(a.size() + b.size(), 0);
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = 0; j < b.size(); ++j) {
            sum[i + j + 1] += (a[i] - '0') * (b[j] - '0');
        }
    }
    for (std::size_t k = sum.size() - 1; k > 0; --k) {
        sum[k - 1] += sum[k] / 10;
        sum[k] %= 10;
    }
    std::string out;
    for (const int d : sum) out += static_cast<char>('0' + d);
    return strip_leading_zeros(std::move(out));
}

}  // namespace

decimal::decimal(std::int64_t value) : negative_(value < 0) {
    char text[24];
    const auto end = std::to_chars(text, text + sizeof text, value).ptr;
    digits_.assign(negative_ ? text + 1 : text, end);
}

std::optional<decimal> decimal::parse(std::string_view text) {
    decimal out;
    std::size_t at = 0;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) out.negative_ = text[at++] == '-';
    std::string digits;
    std::int64_t scale = 0;
    bool any_digit = false, point = false;
    for (; at < text.size(); ++at) {
        const char c = text[at];
        if (c >= '0' && c <= '9') {
            digits += c;
            any_digit = true;
            if (point) ++scale;
        } else if (c == '.' && !point) {
            point = true;
        } else {
            break;
        }
        if (static_cast<std::int64_t>(digits.size()) > max_integer_digits + max_scale) return std::nullopt;
    }
    if (!any_digit) return std::nullopt;
    if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
        ++at;
        const bool minus = at < text.size() && text[at] == '-';
        if (at < text.size() && (text[at] == '-' || text[at] == '+')) ++at;
        std::int64_t exponent = 0;
        const auto [end, ec] = std::from_chars(text.data() + at, text.data() + text.size(), exponent);
        if (ec != std::errc{} || end == text.data() + at || exponent > max_integer_digits + max_scale)
            return std::nullopt;
        at = static_cast<std::size_t>(end - text.data());
        scale += minus ? exponent : -exponent;
        if (scale < 0) {  // 1.5e3: 1500, scale 0
            digits.append(static_cast<std::size_t>(-scale), '0');
            scale = 0;
        }
    }
    if (at != text.size() || scale > max_scale) return std::nullopt;
    out.digits_ = strip_leading_zeros(std::move(digits));
    out.scale_ = static_cast<std::uint32_t>(scale);
    if (static_cast<std::int64_t>(out.digits_.size()) - scale > max_integer_digits) return std::nullopt;
    if (out.digits_ == "0") out.negative_ = false;
    return out;
}

std::string decimal::to_string() const {
    std::string out = negative_ ? "-" : "";
    if (scale_ == 0) return out + digits_;
    const std::string padded =
        digits_.size() <= scale_ ? std::string(scale_ + 1 - digits_.size(), '0') + digits_ : digits_;
    out.append(padded, 0, padded.size() - scale_);
    out += '.';
    out.append(padded, padded.size() - scale_, scale_);
    return out;
}

decimal operator+(const decimal& a, const decimal& b) {
    const auto scale = std::max(a.scale_, b.scale_);
    const auto x = shifted(a.digits_, scale - a.scale_), y = shifted(b.digits_, scale - b.scale_);
    decimal out;
    out.scale_ = scale;
    if (a.negative_ == b.negative_) {
        out.digits_ = add_magnitudes(x, y);
        out.negative_ = a.negative_;
    } else if (compare_magnitude(x, y) >= 0) {
        out.digits_ = subtract_magnitudes(x, y);
        out.negative_ = a.negative_;
    } else {
        out.digits_ = subtract_magnitudes(y, x);
        out.negative_ = b.negative_;
    }
    if (out.digits_ == "0") out.negative_ = false;
    return out;
}

decimal decimal::operator-() const {
    decimal out = *this;
    out.negative_ = !negative_ && digits_ != "0";
    return out;
}

decimal operator-(const decimal& a, const decimal& b) {
    return a + -b;
}

decimal operator*(const decimal& a, const decimal& b) {
    decimal out;
    out.digits_ = multiply_magnitudes(a.digits_, b.digits_);
    out.scale_ = a.scale_ + b.scale_;
    out.negative_ = a.negative_ != b.negative_ && out.digits_ != "0";
    return out;
}

std::strong_ordering operator<=>(const decimal& a, const decimal& b) {
    if (a.negative_ != b.negative_)
        return a.negative_ ? std::strong_ordering::less : std::strong_ordering::greater;
    const auto scale = std::max(a.scale_, b.scale_);
    const int c =
        compare_magnitude(shifted(a.digits_, scale - a.scale_), shifted(b.digits_, scale - b.scale_));
    const int signed_c = a.negative_ ? -c : c;
    return signed_c < 0 ? std::strong_ordering::less
                        : (signed_c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

bool operator==(const decimal& a, const decimal& b) {
    return std::is_eq(a <=> b);
}

std::optional<decimal> codec<decimal>::parse(std::string_view text, parse_failure& why) {
    if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
        why = {"value is " + std::string(text) + ": a keel::decimal holds only finite numbers",
               "value_error.decimal"};
        return std::nullopt;
    }
    auto value = decimal::parse(text);
    if (!value) why = {"value is not a valid decimal", "value_error.decimal"};
    return value;
}

}  // namespace keel

namespace keel {

void codec<decimal>::describe(schema& s) {
    // A JSON string, so that no client reads it through a binary floating point number.
    s.type("string").format("decimal").pattern("^-?[0-9]+(\\.[0-9]+)?$");
}

}  // namespace keel
