#include "bank_process.hpp"

#include <keel/testing/http_client.hpp>
#include <keel/testing/ports.hpp>

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace keel_fault {

using namespace std::chrono_literals;

bank_process::bank_process(const std::string& database_url, unsigned short port,
                           std::vector<std::string> args, std::vector<std::string> env)
    : port_(port ? port : keel::testing::free_loopback_port()) {
    std::vector<std::string> env_strings = {"DATABASE_URL=" + database_url, "PORT=" + std::to_string(port_),
                                            "KEEL_ACCESS_LOG=0"};
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    for (char** e = environ; *e; ++e) {
        const std::string entry = *e;
        if (entry.rfind("DATABASE_URL=", 0) != 0 && entry.rfind("PORT=", 0) != 0)
            env_strings.push_back(entry);
    }
    std::string program = KEEL_BANK_BINARY;
    std::vector<char*> argv, envp;
    argv.reserve(args.size() + 2);
    argv.push_back(program.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::execve(KEEL_BANK_BINARY, argv.data(), envp.data());
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
        try {
            keel::testing::http_client http(port_, 1s);
            if (http.get("/healthz").status() == keel::status::ok) return;
        } catch (const std::exception&) {
        }
        if (wait_exit(0ms)) throw std::runtime_error("keel_bank exited during start-up");
        if (std::chrono::steady_clock::now() > deadline) {
            signal(SIGKILL);
            wait_exit(5s);
            throw std::runtime_error("keel_bank did not answer /healthz within 15 s");
        }
        std::this_thread::sleep_for(20ms);
    }
}

bank_process::~bank_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void bank_process::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> bank_process::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
}

long bank_process::rss_kib() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string key;
    long value = 0;
    while (status >> key) {
        if (key == "VmRSS:") {
            status >> value;
            return value;
        }
    }
    return -1;
}

long bank_process::open_fds() const {
    DIR* dir = ::opendir(("/proc/" + std::to_string(pid_) + "/fd").c_str());
    if (!dir) return -1;
    long n = 0;
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n;
}

}  // namespace keel_fault
