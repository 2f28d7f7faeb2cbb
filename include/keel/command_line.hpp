#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

/// The `--flag value`, `--flag=value` and `--switch` arguments of a command line, read by
/// whoever knows each flag (keel's server_options, the application's own settings); what
/// nobody read is left in `unread()`, so that an application can refuse unknown arguments
/// without keeping a list of keel's flags:
/// ```
/// keel::command_line args(argc, argv);
/// auto server = keel::server_options::from_environment(args);      // --port, --host, ...
/// if (args.has("--seed")) seed(db);
/// if (!args.unread().empty()) throw std::invalid_argument("unknown argument " + args.unread()[0]);
/// ```
class command_line {
public:
    command_line(int argc, const char* const* argv);

    /// The value of `flag` ("--port"): the last one given, as `--port 8000` or `--port=8000`.
    /// nullopt when it is absent; std::invalid_argument when it is last with no value.
    std::optional<std::string> value(std::string_view flag);
    /// Whether the switch `flag` ("--seed") was given; std::invalid_argument for `--seed=x`.
    bool has(std::string_view flag);
    /// The arguments nobody has read, in order.
    std::vector<std::string> unread() const;

private:
    std::vector<std::string> args_;
    std::vector<bool> read_;
};

}  // namespace keel
