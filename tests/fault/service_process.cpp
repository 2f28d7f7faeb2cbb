#include "service_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace keel_fault {

using namespace std::chrono_literals;

namespace {

const passwd* postgres_user() {
    return ::geteuid() == 0 ? ::getpwnam("postgres") : nullptr;
}

}  // namespace

scratch_directory::scratch_directory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "keel-deploy-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    if (const auto* pg = postgres_user()) {
        if (::chown(path_.c_str(), pg->pw_uid, pg->pw_gid) != 0) throw std::runtime_error("chown failed");
    }
}

scratch_directory::~scratch_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string scratch_directory::write(const std::string& name, const std::string& text) const {
    const auto file = path_ + "/" + name;
    std::ofstream(file) << text;
    if (const auto* pg = postgres_user()) {
        if (::chown(file.c_str(), pg->pw_uid, pg->pw_gid) != 0) throw std::runtime_error("chown failed");
    }
    return file;
}

bool port_accepts(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

service_process::service_process(std::vector<std::string> argv, unsigned short port, bool as_postgres,
                                 std::vector<std::string> env) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (char** e = environ; *e; ++e) env.emplace_back(*e);  // (the first of a name wins)
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const passwd* pg = as_postgres ? postgres_user() : nullptr;
    const uid_t uid = pg ? pg->pw_uid : 0;
    const gid_t gid = pg ? pg->pw_gid : 0;
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        if (pg && (::setgid(gid) != 0 || ::setuid(uid) != 0)) ::_exit(126);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!port_accepts(port)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error(argv[0] + " exited during start-up");
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error(argv[0] + " did not listen");
        std::this_thread::sleep_for(10ms);
    }
}

service_process::~service_process() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(10ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

void service_process::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

url_parts parse_database_url(const std::string& url) {
    // postgresql://user@host:port/db
    url_parts p;
    const auto scheme = url.find("://");
    const auto at = url.find('@', scheme);
    const auto colon = url.find(':', at);
    const auto slash = url.find('/', colon);
    if (scheme == std::string::npos || at == std::string::npos || colon == std::string::npos ||
        slash == std::string::npos)
        throw std::invalid_argument("unexpected database URL: " + url);
    p.user = url.substr(scheme + 3, at - scheme - 3);
    p.host = url.substr(at + 1, colon - at - 1);
    p.port = static_cast<unsigned short>(std::stoi(url.substr(colon + 1, slash - colon - 1)));
    p.database = url.substr(slash + 1, url.find('?', slash) - slash - 1);
    return p;
}

}  // namespace keel_fault
