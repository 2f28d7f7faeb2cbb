#include <keel/testing/test_response.hpp>

#include <ostream>

namespace keel::testing {

std::ostream& operator<<(std::ostream& os, const test_response& res) {
    os << to_int(res.status()) << ' ' << reason_phrase(res.status());
    for (const auto& [name, value] : res.headers()) os << "\n  " << name << ": " << value;
    constexpr std::size_t shown = 2000;
    os << "\n  body: " << res.body().substr(0, shown);
    if (res.body().size() > shown) os << "... (" << res.body().size() << " bytes)";
    return os;
}

}  // namespace keel::testing
