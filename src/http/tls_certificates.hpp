#pragma once

// The server's TLS configuration: its certificate chain and key, in an OpenSSL context made
// with TLS 1.2 as the floor and Mozilla's "intermediate" cipher list. Each accepted connection
// takes the context current at that moment; a changed file (looked at about once a second) or
// reload() makes a new one for the connections that follow, while open ones keep theirs.
// Private to the server.

#include <keel/logger.hpp>

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace keel::detail {

class tls_certificates {
public:
    /// Loads both files; throws std::invalid_argument saying what is wrong with them.
    tls_certificates(std::string certificate_file, std::string key_file, const logger& log);

    /// The context for a connection accepted now (reloaded first when a file changed).
    std::shared_ptr<boost::asio::ssl::context> current();
    /// Reads both files again now (SIGHUP); keeps the context in use, and logs, when they fail.
    void reload() noexcept;

private:
    std::shared_ptr<boost::asio::ssl::context> load() const;
    std::uint64_t version() const noexcept;  // the files' modification times and sizes, combined

    std::string certificate_file_;
    std::string key_file_;
    const logger& log_;
    std::mutex mutex_;
    std::shared_ptr<boost::asio::ssl::context> context_;
    std::uint64_t loaded_version_ = 0;
    std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace keel::detail
