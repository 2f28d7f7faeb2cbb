// A string's constraint on a number is a mistake the compiler names.
// expect: keel: min_length, max_length and pattern apply to strings
#include <keel/model.hpp>

#include <cstdint>

struct account {
    std::int64_t balance;
    KEEL_MODEL(account, (balance, max_length(10)))
};

void f(const nlohmann::json& j, account& a) {
    from_json(j, a);
}
