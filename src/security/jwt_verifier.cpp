// A token is refused at the first thing wrong with it, in an order that spends nothing on a
// stranger: size, shape, header, the key its `kid` names, the algorithm that key allows, the
// signature, and only then the claims.

#include <keel/jwt.hpp>
#include <keel/logger.hpp>

#include "security/base64url.hpp"
#include "security/jwt_keys.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace keel {

namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

// What identifies one version of the key file, so a rotation is noticed without reading it.
struct file_version {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t modified_ns = 0;
    bool operator==(const file_version&) const = default;
};

std::optional<file_version> version_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return file_version{st.st_dev, st.st_ino, st.st_size,
                        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::string read_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument("keel: cannot read the JWT key file '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

json decode_segment(std::string_view segment, const char* what) {
    const auto bytes = detail::base64url_decode(segment);
    if (!bytes) throw jwt_error(std::string("the token's ") + what + " is not base64url");
    auto value = json::parse(*bytes, nullptr, false);
    if (value.is_discarded() || !value.is_object())
        throw jwt_error(std::string("the token's ") + what + " is not a JSON object");
    return value;
}

// `exp`, `nbf`, `iat`: seconds since the epoch, a JSON number (RFC 7519 §2 NumericDate).
std::optional<double> numeric_date(const json& payload, const char* claim) {
    const auto found = payload.find(claim);
    if (found == payload.end()) return std::nullopt;
    if (!found->is_number()) throw jwt_error(std::string("the token's '") + claim + "' is not a number");
    const auto value = found->get<double>();
    if (!std::isfinite(value)) throw jwt_error(std::string("the token's '") + claim + "' is not a number");
    return value;
}

std::string string_claim(const json& payload, const char* claim) {
    const auto found = payload.find(claim);
    if (found == payload.end()) return {};
    if (!found->is_string()) throw jwt_error(std::string("the token's '") + claim + "' is not a string");
    return found->get<std::string>();
}

// A claim that may be one string or a list of them (`aud`, `scp`); `split` breaks a string on
// spaces (OAuth 2's `scope`).
std::vector<std::string> string_list(const json& value, const char* claim, bool split) {
    std::vector<std::string> out;
    auto add = [&](const std::string& text) {
        if (!split) {
            out.push_back(text);
            return;
        }
        std::size_t start = 0;
        while (start <= text.size()) {
            const auto end = std::min(text.find(' ', start), text.size());
            if (end > start) out.push_back(text.substr(start, end - start));
            start = end + 1;
        }
    };
    if (value.is_string()) {
        add(value.get_ref<const std::string&>());
    } else if (value.is_array()) {
        for (const auto& item : value) {
            if (!item.is_string())
                throw jwt_error(std::string("the token's '") + claim + "' holds a non-string");
            out.push_back(item.get<std::string>());
        }
    } else {
        throw jwt_error(std::string("the token's '") + claim + "' is neither a string nor a list");
    }
    return out;
}

}  // namespace

jwt_claims jwt_claims::from(std::shared_ptr<const json> payload) {
    jwt_claims claims;
    claims.issuer_ = string_claim(*payload, "iss");
    claims.subject_ = string_claim(*payload, "sub");
    if (const auto aud = payload->find("aud"); aud != payload->end())
        claims.audience_ = string_list(*aud, "aud", false);
    if (const auto scope = payload->find("scope"); scope != payload->end()) {
        claims.scopes_ = string_list(*scope, "scope", true);
    } else if (const auto scp = payload->find("scp"); scp != payload->end()) {
        claims.scopes_ = string_list(*scp, "scp", true);
    }
    if (const auto exp = numeric_date(*payload, "exp")) {
        // Far-future expiries end at 9999-12-31: the time_point cannot hold 1e308 seconds.
        const double seconds = std::clamp(*exp, -62'135'596'800.0, 253'402'300'799.0);
        claims.expires_at_ = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::duration<double>(seconds)));
    }
    claims.payload_ = std::move(payload);
    return claims;
}

jwt_claims jwt_claims::unverified(std::string_view payload_json) {
    auto payload = json::parse(payload_json, nullptr, false);
    if (payload.is_discarded() || !payload.is_object())
        throw std::invalid_argument("keel: jwt_claims::unverified: the payload is not a JSON object");
    try {
        return from(std::make_shared<const json>(std::move(payload)));
    } catch (const jwt_error& e) {
        throw std::invalid_argument(std::string("keel: jwt_claims::unverified: ") + e.what());
    }
}

const json& jwt_claims::payload() const noexcept {
    static const json empty = json::object();
    return payload_ ? *payload_ : empty;
}

bool jwt_claims::has_scope(std::string_view scope) const noexcept {
    return std::find(scopes_.begin(), scopes_.end(), scope) != scopes_.end();
}

struct jwt_verifier::impl {
    jwt_options options;
    keel::logger fallback_log;  // standard error, when options.log is null

    mutable std::mutex keys_mutex;
    mutable std::shared_ptr<const detail::jwt_key_set> keys;  // guarded by keys_mutex

    mutable std::mutex reload_mutex;  // one reload at a time; others go on with the keys they have
    mutable std::optional<file_version> loaded_version;  // guarded by reload_mutex
    mutable std::atomic<std::int64_t> next_check{0};     // steady ns: when to look at the file again
    mutable std::atomic<std::int64_t> next_forced{0};    // ... when an unknown kid may look sooner

    const keel::logger& log() const { return options.log ? *options.log : fallback_log; }

    std::shared_ptr<const detail::jwt_key_set> current() const {
        const std::lock_guard lock(keys_mutex);
        return keys;
    }

    // Reads the file if it changed since it was loaded; false when it did not. Throws
    // std::invalid_argument (keeping the keys in use) when it changed into something unusable.
    bool load_if_changed() const {
        auto version = version_of(options.key_file);
        if (!version)
            throw std::invalid_argument("keel: cannot read the JWT key file '" + options.key_file + "'");
        if (loaded_version && *version == *loaded_version) return false;
        auto parsed = std::make_shared<const detail::jwt_key_set>(
            detail::jwt_key_set::parse(read_key_file(options.key_file)));
        loaded_version = version;
        if (const auto in_use = current(); in_use && !in_use->same_algorithms(*parsed))
            throw std::invalid_argument("keel: the JWT key file '" + options.key_file +
                                        "' now holds keys for other algorithms; a restart takes them");
        for (const auto& why : parsed->skipped())
            log().warning("keel: a JWK was skipped: " + why, {{"file", options.key_file}});
        const std::lock_guard lock(keys_mutex);
        keys = std::move(parsed);
        return true;
    }

    // Looks at the key file when its interval has passed (or, `forced`, at most once a second
    // for a `kid` no key has). Never throws: a bad file is logged, and the old keys stay.
    void refresh(bool forced) const {
        if (options.key_file.empty()) return;
        const auto now = steady::now().time_since_epoch().count();
        auto& due = forced ? next_forced : next_check;
        if (now < due.load(std::memory_order_relaxed)) return;
        const std::unique_lock lock(reload_mutex, std::try_to_lock);
        if (!lock.owns_lock()) return;
        due.store(now + std::chrono::duration_cast<std::chrono::nanoseconds>(
                            forced ? std::chrono::milliseconds(1000) : options.reload_interval)
                            .count(),
                  std::memory_order_relaxed);
        try {
            if (load_if_changed()) log().info("keel: JWT keys reloaded", {{"file", options.key_file}});
        } catch (const std::exception& e) {
            log().error(std::string(e.what()) + "; the keys in use stay", {{"file", options.key_file}});
        }
    }
};

jwt_verifier::jwt_verifier() : impl_(std::make_unique<impl>()) {}

jwt_verifier::jwt_verifier(jwt_options options) : impl_(std::make_unique<impl>()) {
    impl_->options = std::move(options);
    auto& o = impl_->options;
    if (!o.key_file.empty() && !o.key.empty())
        throw std::invalid_argument("keel: jwt_options: give key_file or key, not both");
    if (o.leeway.count() < 0) throw std::invalid_argument("keel: jwt_options: leeway must not be negative");
    if (!o.key_file.empty()) {
        const std::lock_guard lock(impl_->reload_mutex);
        impl_->load_if_changed();
        impl_->next_check = (steady::now() + o.reload_interval).time_since_epoch().count();
    } else if (!o.key.empty()) {
        impl_->keys = std::make_shared<const detail::jwt_key_set>(detail::jwt_key_set::parse(o.key));
        for (const auto& why : impl_->keys->skipped())
            impl_->log().warning("keel: a JWK was skipped: " + why);
    }
}

jwt_verifier::~jwt_verifier() = default;

bool jwt_verifier::configured() const noexcept {
    return impl_->current() != nullptr;
}

void jwt_verifier::reload() {
    if (impl_->options.key_file.empty()) return;
    const std::lock_guard lock(impl_->reload_mutex);
    impl_->loaded_version.reset();  // read it even if it looks unchanged
    impl_->load_if_changed();
}

jwt_claims jwt_verifier::verify(std::string_view token) const {
    const auto& o = impl_->options;
    impl_->refresh(false);
    auto keys = impl_->current();
    if (!keys) throw jwt_error("no JWT key is configured");
    if (token.size() > o.max_token_bytes)
        throw jwt_error("the token is longer than " + std::to_string(o.max_token_bytes) + " bytes");

    const auto first_dot = token.find('.');
    const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
        throw jwt_error("the token is not three dot-separated parts (JWS compact form)");
    const auto signed_part = token.substr(0, second_dot);

    const auto header = decode_segment(token.substr(0, first_dot), "header");
    const auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string()) throw jwt_error("the token's header names no algorithm");
    if (header.contains("crit"))
        throw jwt_error("the token's header has critical extensions keel does not know");
    std::optional<std::string> kid;
    if (const auto found = header.find("kid"); found != header.end()) {
        if (!found->is_string()) throw jwt_error("the token's 'kid' is not a string");
        kid = found->get<std::string>();
    }

    const auto* key = keys->find(kid ? &*kid : nullptr);
    if (!key && kid) {
        impl_->refresh(true);  // a key issued since the file was last read?
        keys = impl_->current();
        key = keys->find(&*kid);
    }
    if (!key) throw jwt_error(kid ? "no key has the token's kid '" + *kid + "'" : "the token names no kid");
    // The key decides the algorithm; the token's header only has to agree with it.
    if (alg->get_ref<const std::string&>() != key->algorithm().name)
        throw jwt_error("the token's algorithm '" + alg->get<std::string>() + "' is not its key's (" +
                        std::string(key->algorithm().name) + ")");
    const auto signature = detail::base64url_decode(token.substr(second_dot + 1));
    if (!signature) throw jwt_error("the token's signature is not base64url");
    if (!key->verifies(signed_part, *signature)) throw jwt_error("the token's signature does not verify");

    auto payload = std::make_shared<const json>(
        decode_segment(token.substr(first_dot + 1, second_dot - first_dot - 1), "payload"));
    const auto now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto leeway = static_cast<double>(o.leeway.count());
    const auto exp = numeric_date(*payload, "exp");
    if (!exp && o.require_expiry) throw jwt_error("the token has no expiry ('exp')");
    if (exp && now >= *exp + leeway) throw jwt_error("the token has expired");
    if (const auto nbf = numeric_date(*payload, "nbf"); nbf && now + leeway < *nbf)
        throw jwt_error("the token is not valid yet ('nbf')");
    if (const auto iat = numeric_date(*payload, "iat"); iat && now + leeway < *iat)
        throw jwt_error("the token was issued in the future ('iat')");

    auto claims = jwt_claims::from(std::move(payload));
    if (!o.issuer.empty() && claims.issuer_ != o.issuer)
        throw jwt_error("the token's issuer is not the expected one");
    if (!o.audience.empty() &&
        std::find(claims.audience_.begin(), claims.audience_.end(), o.audience) == claims.audience_.end()) {
        throw jwt_error("the token is not for this audience");
    }
    claims.key_id_ = key->id();
    return claims;
}

}  // namespace keel
