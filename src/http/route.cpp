#include <keel/route.hpp>

#include <algorithm>
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

route& route::timeout(std::chrono::milliseconds limit) {
    if (limit.count() <= 0) throw std::invalid_argument("keel: a route's timeout must be positive");
    spec_->timeout = limit;
    return *this;
}

route& route::summary(std::string_view text) {
    spec_->doc.summary = text;
    return *this;
}

route& route::description(std::string_view text) {
    spec_->doc.description = text;
    return *this;
}

route& route::operation_id(std::string_view id) {
    if (id.empty()) throw std::invalid_argument("keel: an operation id cannot be empty");
    spec_->doc.operation_id = id;
    return *this;
}

route& route::tag(std::string_view name) {
    auto& tags = spec_->doc.tags;
    if (std::find(tags.begin(), tags.end(), name) == tags.end()) tags.emplace_back(name);
    return *this;
}

route& route::deprecated(bool yes) noexcept {
    spec_->doc.deprecated = yes;
    return *this;
}

route& route::include_in_schema(bool yes) noexcept {
    spec_->doc.in_schema = yes;
    return *this;
}

route& route::media_type(std::string_view type) {
    spec_->doc.media_type = type;
    return *this;
}

route& route::response(keel::status code, std::string_view description) {
    return add_response(code, description, nullptr);
}

route& route::add_response(keel::status code, std::string_view description, keel::schema_writer schema) {
    const auto n = to_int(code);
    if (n < 100 || n > 599) throw std::invalid_argument("keel: a declared response needs a status 100..599");
    for (auto& declared : spec_->doc.responses) {
        if (declared.code == code) {  // declared again: the last word counts
            declared = {code, std::string(description), schema};
            return *this;
        }
    }
    spec_->doc.responses.push_back({code, std::string(description), schema});
    return *this;
}

}  // namespace keel
