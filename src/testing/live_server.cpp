#include <keel/testing/live_server.hpp>

namespace keel::testing {

server_options live_server::quiet_options() {
    server_options options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    options.worker_threads = 8;
    options.access_log = false;
    options.handle_signals = false;
    return options;
}

live_server::live_server(app& application, server_options options) {
    options.port = 0;
    server_ = std::make_unique<keel::server>(application, std::move(options));
    thread_ = std::thread([this] { server_->run(); });
}

live_server::~live_server() {
    stop();
}

std::string live_server::url() const {
    return "http://127.0.0.1:" + std::to_string(port());
}

void live_server::stop() {
    server_->stop();
    join();
}

void live_server::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace keel::testing
