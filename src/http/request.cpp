#include <keel/request.hpp>

#include <algorithm>

#include "http/url.hpp"

namespace keel {

request::request(keel::method m, std::string target, std::string body) : body_(std::move(body)) {
    set_method(m);
    set_target(std::move(target));
}

void request::set_method(keel::method m, std::string_view name) {
    method_ = m;
    method_name_ = name.empty() ? std::string(to_string(m)) : std::string(name);
}

void request::set_target(std::string target) {
    target_ = std::move(target);
    const auto q = target_.find('?');
    path_end_ = q == std::string::npos ? target_.size() : q;
    query_params_.reset();
}

std::string_view request::path() const noexcept {
    return std::string_view(target_).substr(0, path_end_);
}

std::string_view request::query_string() const noexcept {
    if (path_end_ >= target_.size()) return {};
    return std::string_view(target_).substr(path_end_ + 1);
}

std::optional<std::string_view> request::path_param(std::string_view name) const noexcept {
    for (const auto& [key, value] : path_params_) {
        if (key == name) return std::string_view(value);
    }
    return std::nullopt;
}

const request::param_list& request::query_params() const {
    if (!query_params_) query_params_ = detail::parse_query(query_string());
    return *query_params_;
}

std::optional<std::string_view> request::query(std::string_view name) const {
    for (const auto& [key, value] : query_params()) {
        if (key == name) return std::string_view(value);
    }
    return std::nullopt;
}

void request::set_id(std::string_view id) noexcept {
    id_size_ = static_cast<std::uint8_t>(std::min(id.size(), max_id_size));
    std::copy_n(id.data(), id_size_, id_.data());
}

}  // namespace keel
