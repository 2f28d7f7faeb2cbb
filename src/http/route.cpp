#include <keel/route.hpp>

#include <stdexcept>

namespace keel {

route& route::status(keel::status code) noexcept {
    spec_->success_status = code;
    return *this;
}

route& route::status(int code) {
    if (code < 100 || code > 999) throw std::invalid_argument("keel: route status must be 100..999");
    return status(static_cast<keel::status>(code));
}

route& route::retry_on_conflict(int attempts) {
    if (attempts < 1 || attempts > 100)
        throw std::invalid_argument("keel: retry_on_conflict takes 1 to 100 attempts");
    spec_->conflict_attempts = attempts;
    return *this;
}

}  // namespace keel
