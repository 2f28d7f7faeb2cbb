#pragma once

// Runs a shell command for a test (a browser script, curl, openssl) and gives what it printed
// on standard output and its exit status.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace keel_test {

/// What `command` (run by /bin/sh) printed on stdout, and its exit status (-1 when it did not
/// exit normally).
inline std::pair<std::string, int> run_command(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return {"popen failed", -1};
    std::array<char, 4096> chunk{};
    while (const auto n = std::fread(chunk.data(), 1, chunk.size(), pipe)) out.append(chunk.data(), n);
    const int status = ::pclose(pipe);
    return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace keel_test
