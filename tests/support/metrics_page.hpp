#pragma once

// Reading a Prometheus text page in tests.

#include <optional>
#include <sstream>
#include <string>

namespace keel_test {

/// The value of the sample whose name and labels are exactly `series` (as the page writes them:
/// `name{label="value",...}`), if the page has it.
inline std::optional<double> sample(const std::string& page, const std::string& series) {
    std::istringstream lines(page);
    for (std::string line; std::getline(lines, line);) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ')
            return std::stod(line.substr(series.size() + 1));
    }
    return std::nullopt;
}

}  // namespace keel_test
