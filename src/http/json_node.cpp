#include <keel/detail/json_node.hpp>

#include <new>
#include <nlohmann/json.hpp>

namespace keel::detail {

bool json_node::is_null() const noexcept {
    return value_->is_null();
}
bool json_node::is_boolean() const noexcept {
    return value_->is_boolean();
}
bool json_node::is_integer() const noexcept {
    return value_->is_number_integer();
}
bool json_node::is_number() const noexcept {
    return value_->is_number();
}
bool json_node::is_string() const noexcept {
    return value_->is_string();
}
bool json_node::is_array() const noexcept {
    return value_->is_array();
}
bool json_node::is_object() const noexcept {
    return value_->is_object();
}

bool json_node::boolean() const noexcept {
    return *value_->get_ptr<const bool*>();
}
bool json_node::is_unsigned_integer() const noexcept {
    return value_->is_number_unsigned();
}
std::uint64_t json_node::unsigned_integer() const noexcept {
    return *value_->get_ptr<const std::uint64_t*>();
}
std::int64_t json_node::signed_integer() const noexcept {
    return *value_->get_ptr<const std::int64_t*>();
}

double json_node::number() const noexcept {
    if (const auto* d = value_->get_ptr<const double*>()) return *d;
    if (const auto* u = value_->get_ptr<const std::uint64_t*>()) return static_cast<double>(*u);
    return static_cast<double>(*value_->get_ptr<const std::int64_t*>());
}

const std::string& json_node::string() const noexcept {
    return value_->get_ref<const std::string&>();
}
std::size_t json_node::size() const noexcept {
    return value_->size();
}
json_node json_node::operator[](std::size_t i) const noexcept {
    return json_node((*value_)[i]);
}

std::optional<json_node> json_node::member(const char* name) const noexcept {
    const auto it = value_->find(name);
    if (it == value_->end()) return std::nullopt;
    return json_node(*it);
}

static_assert(sizeof(nlohmann::json) <= 16 && alignof(nlohmann::json) <= 8,
              "json_document's storage no longer fits nlohmann::json: widen it");

json_document::json_document(nlohmann::json&& value) noexcept {
    new (storage_) nlohmann::json(std::move(value));
}
json_document::json_document(json_document&& other) noexcept {
    new (storage_) nlohmann::json(std::move(other.value()));
}
json_document& json_document::operator=(json_document&& other) noexcept {
    value() = std::move(other.value());
    return *this;
}
json_node json_document::root() const noexcept {
    return json_node(value());
}
nlohmann::json& json_document::value() noexcept {
    return *std::launder(reinterpret_cast<nlohmann::json*>(storage_));
}
const nlohmann::json& json_document::value() const noexcept {
    return *std::launder(reinterpret_cast<const nlohmann::json*>(storage_));
}

json_document::~json_document() {
    value().~basic_json();
}

}  // namespace keel::detail
