#include <keel/testing/ports.hpp>
#include <keel/testing/postgres_server.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace keel::testing {

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

struct postgres_server::impl {
    std::string bin;
    std::string dir;  // holds data/, the socket and the logs
    unsigned short port = 0;
    bool drop_privileges = false;  // running as root: the server runs as `postgres`
    uid_t uid = 0;
    gid_t gid = 0;
    pid_t watchdog = -1;
    bool running = false;
    std::string server_options;  // pg_ctl -o, kept for restart()

    std::string data() const { return dir + "/data"; }

    // Runs a program (as `postgres` when we are root) with its output in `log`; returns its exit status.
    int run(const std::vector<std::string>& args, const std::string& log) const {
        std::vector<char*> argv;
        argv.reserve(args.size() + 1);
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const pid_t child = ::fork();
        if (child < 0) throw std::runtime_error("keel::testing::postgres_server: fork failed");
        if (child == 0) {
            // Only async-signal-safe calls from here to exec.
            const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (out >= 0) {
                ::dup2(out, STDOUT_FILENO);
                ::dup2(out, STDERR_FILENO);
            }
            if (drop_privileges && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0))
                ::_exit(126);
            if (::chdir("/") != 0) ::_exit(126);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }

    // Finds the binaries and makes the directory, owned by the server's user.
    void prepare_directory() {
        const char* given_bin = std::getenv("PG_BIN");
        bin = given_bin && *given_bin ? given_bin : "/usr/lib/postgresql/15/bin";
        if (::access((bin + "/initdb").c_str(), X_OK) != 0 ||
            ::access((bin + "/pg_ctl").c_str(), X_OK) != 0) {
            throw std::runtime_error(
                "keel::testing::postgres_server: no PostgreSQL server binaries in " + bin +
                "; install them with `apt-get install postgresql-15` (or set PG_BIN, or point "
                "KEEL_TEST_DATABASE_URL at a running server)");
        }
        char dir_template[] = "/tmp/keel-pg-XXXXXX";
        if (!::mkdtemp(dir_template))
            throw std::runtime_error("keel::testing::postgres_server: mkdtemp failed");
        dir = dir_template;
        if (::geteuid() == 0) {
            const passwd* pw = ::getpwnam("postgres");
            if (!pw) {
                std::filesystem::remove_all(dir);
                throw std::runtime_error(
                    "keel::testing::postgres_server: running as root, PostgreSQL must run as another "
                    "user and there is no `postgres` user (install postgresql-15, which adds it)");
            }
            drop_privileges = true;
            uid = pw->pw_uid;
            gid = pw->pw_gid;
            if (::chown(dir.c_str(), uid, gid) != 0) {
                throw std::runtime_error("keel::testing::postgres_server: cannot hand " + dir +
                                         " to postgres");
            }
        }
    }

    // Stops the server and deletes the directory if this process dies first.
    void start_watchdog() {
        const pid_t parent = ::getpid();
        const std::string script =
            "while kill -0 " + std::to_string(parent) +
            " 2>/dev/null; do sleep 1; done; "
            "pid=$(head -1 '" +
            data() +
            "/postmaster.pid' 2>/dev/null); "
            "[ -n \"$pid\" ] && kill -INT \"$pid\" 2>/dev/null; "
            "while [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null; do sleep 0.2; done; "
            "rm -rf '" +
            dir + "'";
        const pid_t child = ::fork();
        if (child < 0) return;  // no watchdog: the destructor still cleans up
        if (child == 0) {
            ::setsid();  // outlive the test process's group
            const int null = ::open("/dev/null", O_RDWR);
            if (null >= 0) {
                ::dup2(null, STDIN_FILENO);
                ::dup2(null, STDOUT_FILENO);
                ::dup2(null, STDERR_FILENO);
            }
            ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        watchdog = child;
    }
};

postgres_server::postgres_server(source where) : impl_(std::make_unique<impl>()), source_(where) {}

postgres_server::~postgres_server() {
    stop();
}

std::string postgres_server::url_for(const std::string& database) const {
    if (base_url_.empty()) throw std::logic_error("keel::testing::postgres_server: start() it first");
    return base_url_ + database;
}

void postgres_server::start() {
    if (!base_url_.empty()) return;
    const char* given = source_ == source::always_private ? nullptr : std::getenv("KEEL_TEST_DATABASE_URL");
    if (given && *given) {
        // Keep everything up to the database name; url_for() puts another one there.
        std::string url = given;
        const auto authority = url.find("://");
        const auto path = url.find('/', authority == std::string::npos ? 0 : authority + 3);
        base_url_ = path == std::string::npos ? url + "/" : url.substr(0, path + 1);
        owned_ = false;
        return;
    }

    auto& s = *impl_;
    s.prepare_directory();
    // The directory (and its logs) belongs to the server user from now on.
    const std::string initdb_log = s.dir + "/initdb.log";
    if (s.run({s.bin + "/initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8",
               "--locale=C.UTF-8", "--no-sync"},
              initdb_log) != 0) {
        const auto log = read_file(initdb_log);
        std::filesystem::remove_all(s.dir);
        throw std::runtime_error("keel::testing::postgres_server: initdb failed:\n" + log);
    }
    s.port = free_loopback_port();
    launch("");
}

void postgres_server::launch(const std::string& more_options) {
    auto& s = *impl_;
    const std::string options = "-p " + std::to_string(s.port) + " -k " + s.dir +
                                " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                                " -c full_page_writes=off -c max_connections=200" +
                                more_options;
    const std::string server_log = s.dir + "/postgres.log";
    s.server_options = options;
    s.start_watchdog();
    if (s.run({s.bin + "/pg_ctl", "-D", s.data(), "-l", server_log, "-w", "-t", "60", "-o", options, "start"},
              s.dir + "/pg_ctl.log") != 0) {
        const auto log = read_file(server_log) + read_file(s.dir + "/pg_ctl.log");
        stop();
        throw std::runtime_error("keel::testing::postgres_server: the server did not start:\n" + log);
    }
    s.running = true;
    owned_ = true;
    base_url_ = "postgresql://postgres@127.0.0.1:" + std::to_string(s.port) + "/";
}

void postgres_server::start_as_replica_of(const postgres_server& primary,
                                          std::chrono::milliseconds apply_delay) {
    if (!base_url_.empty()) return;
    if (!primary.owned_ || !primary.impl_->running)
        throw std::logic_error(
            "keel::testing::postgres_server: a replica needs a primary this process started");
    auto& s = *impl_;
    s.prepare_directory();
    // The copy, with standby.signal and primary_conninfo written by -R.
    const std::string log = s.dir + "/basebackup.log";
    if (s.run({s.bin + "/pg_basebackup", "-D", s.data(), "-R", "-X", "stream", "-c", "fast", "--no-sync",
               "-h", "127.0.0.1", "-p", std::to_string(primary.impl_->port), "-U", "postgres"},
              log) != 0) {
        const auto text = read_file(log);
        std::filesystem::remove_all(s.dir);
        s.dir.clear();
        throw std::runtime_error("keel::testing::postgres_server: pg_basebackup failed:\n" + text);
    }
    s.port = free_loopback_port();
    std::string more = " -c hot_standby=on";
    if (apply_delay.count() > 0)
        more += " -c recovery_min_apply_delay=" + std::to_string(apply_delay.count()) + "ms";
    launch(more);
}

void postgres_server::halt() {
    auto& s = *impl_;
    if (!owned_ || !s.running)
        throw std::logic_error("keel::testing::postgres_server: halt() needs a running server it started");
    s.run({s.bin + "/pg_ctl", "-D", s.data(), "-m", "fast", "-w", "-t", "60", "stop"}, s.dir + "/pg_ctl.log");
    s.running = false;
}

void postgres_server::start_again() {
    auto& s = *impl_;
    if (!owned_ || s.running || s.dir.empty())
        throw std::logic_error("keel::testing::postgres_server: start_again() needs a server it halted");
    if (s.run({s.bin + "/pg_ctl", "-D", s.data(), "-l", s.dir + "/postgres.log", "-w", "-t", "60", "-o",
               s.server_options, "start"},
              s.dir + "/pg_ctl.log") != 0) {
        throw std::runtime_error("keel::testing::postgres_server: start_again failed:\n" +
                                 read_file(s.dir + "/pg_ctl.log"));
    }
    s.running = true;
}

void postgres_server::restart() {
    auto& s = *impl_;
    if (!owned_ || !s.running)
        throw std::logic_error("keel::testing::postgres_server: restart() needs a server it started");
    if (s.run({s.bin + "/pg_ctl", "-D", s.data(), "-l", s.dir + "/postgres.log", "-m", "fast", "-w", "-t",
               "60", "-o", s.server_options, "restart"},
              s.dir + "/pg_ctl.log") != 0) {
        throw std::runtime_error("keel::testing::postgres_server: restart failed:\n" +
                                 read_file(s.dir + "/pg_ctl.log"));
    }
}

void postgres_server::stop() noexcept {
    auto& s = *impl_;
    base_url_.clear();
    if (s.dir.empty()) return;
    try {
        if (s.running) {
            s.run({s.bin + "/pg_ctl", "-D", s.data(), "-m", "fast", "-w", "-t", "60", "stop"},
                  s.dir + "/pg_ctl.log");
        }
    } catch (...) {
        // fall through: the watchdog below is told to finish the job
    }
    s.running = false;
    if (s.watchdog > 0) {
        ::kill(s.watchdog, SIGKILL);
        int status = 0;
        ::waitpid(s.watchdog, &status, 0);
        s.watchdog = -1;
    }
    std::error_code ignored;
    std::filesystem::remove_all(s.dir, ignored);
    s.dir.clear();
}

}  // namespace keel::testing
