#include "http/tls_certificates.hpp"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <stdexcept>

namespace keel::detail {

namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 suites (forward secret, AEAD only); TLS 1.3's are OpenSSL's
// defaults, all of them modern.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Unsigned: the mix may wrap, which is all it has to do.
std::uint64_t file_version(const std::string& path) noexcept {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return (static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000U +
            static_cast<std::uint64_t>(st.st_mtim.tv_nsec)) ^
           (static_cast<std::uint64_t>(st.st_size) << 20U) ^ static_cast<std::uint64_t>(st.st_ino);
}

}  // namespace

tls_certificates::tls_certificates(std::string certificate_file, std::string key_file, const logger& log)
    : certificate_file_(std::move(certificate_file)), key_file_(std::move(key_file)), log_(log) {
    loaded_version_ = version();
    context_ = load();
    next_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
}

std::uint64_t tls_certificates::version() const noexcept {
    return file_version(certificate_file_) * 31U + file_version(key_file_);
}

std::shared_ptr<ssl::context> tls_certificates::load() const {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    auto* native = context->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_cipher_list(native, tls12_ciphers);
    boost::system::error_code ec;
    context->use_certificate_chain_file(certificate_file_, ec);
    if (ec) throw std::invalid_argument("keel: TLS certificate '" + certificate_file_ + "': " + ec.message());
    context->use_private_key_file(key_file_, ssl::context::pem, ec);
    if (ec) throw std::invalid_argument("keel: TLS key '" + key_file_ + "': " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1)
        throw std::invalid_argument("keel: TLS key '" + key_file_ + "' is not the certificate's");
    return context;
}

std::shared_ptr<ssl::context> tls_certificates::current() {
    const std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_check_) {
        next_check_ = now + std::chrono::seconds(1);
        if (const auto seen = version(); seen != loaded_version_) {
            // Marked seen whether or not it loads: a half-written pair is tried again when it
            // changes once more (or on SIGHUP), not at every connection.
            loaded_version_ = seen;
            try {
                context_ = load();
                log_.info("keel: TLS certificate reloaded", {{"file", certificate_file_}});
            } catch (const std::exception& e) {
                log_.error(std::string(e.what()) + "; the certificate in use stays");
            }
        }
    }
    return context_;
}

void tls_certificates::reload() noexcept {
    const std::lock_guard lock(mutex_);
    try {
        loaded_version_ = version();
        context_ = load();
        log_.info("keel: TLS certificate reloaded", {{"file", certificate_file_}});
    } catch (const std::exception& e) {
        log_.error(std::string(e.what()) + "; the certificate in use stays");
    }
}

}  // namespace keel::detail
