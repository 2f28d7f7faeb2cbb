#include "metrics/process_metrics.hpp"

#include "metrics/families.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

namespace keel::detail {

namespace {

// The boot time, in seconds since the epoch: /proc/stat's btime.
double boot_time() {
    std::ifstream stat("/proc/stat");
    std::string key;
    double value = 0;
    while (stat >> key) {
        if (key == "btime") {
            stat >> value;
            return value;
        }
        stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return 0;
}

}  // namespace

void collect_process_metrics(std::vector<prometheus::MetricFamily>& out) {
    std::ifstream file("/proc/self/stat");
    const std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    // The command name (field 2) is in parentheses and may hold anything: read after the last ')'.
    if (const auto close = stat.rfind(')'); close != std::string::npos) {
        std::istringstream fields(stat.substr(close + 2));
        std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                                   std::istream_iterator<std::string>());
        // f[0] is field 3 (state): field N is f[N - 3].
        if (f.size() >= 22) {
            static const double boot = boot_time();  // does not change while the process runs
            const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
            const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
            add_single(out, "process_cpu_seconds_total", "User and system CPU time spent in seconds",
                       prometheus::MetricType::Counter, (std::stod(f[11]) + std::stod(f[12])) / ticks);
            add_single(out, "process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds", prometheus::MetricType::Gauge,
                       boot + std::stod(f[19]) / ticks);
            add_single(out, "process_virtual_memory_bytes", "Virtual memory size in bytes",
                       prometheus::MetricType::Gauge, std::stod(f[20]));
            add_single(out, "process_resident_memory_bytes", "Resident memory size in bytes",
                       prometheus::MetricType::Gauge, std::stod(f[21]) * page);
        }
    }
    std::error_code ec;
    std::size_t fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec))
        ++fds;
    if (!ec) {
        add_single(out, "process_open_fds", "Number of open file descriptors", prometheus::MetricType::Gauge,
                   static_cast<double>(fds > 0 ? fds - 1 : 0));  // less the directory's own
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        add_single(out, "process_max_fds", "Maximum number of open file descriptors",
                   prometheus::MetricType::Gauge, static_cast<double>(limit.rlim_cur));
    }
}

}  // namespace keel::detail
