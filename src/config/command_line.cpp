#include <keel/command_line.hpp>

#include <stdexcept>

namespace keel {

command_line::command_line(int argc, const char* const* argv) {
    for (int i = 1; i < argc && argv; ++i) args_.emplace_back(argv[i]);
    read_.assign(args_.size(), false);
}

std::optional<std::string> command_line::value(std::string_view flag) {
    std::optional<std::string> found;
    for (std::size_t i = 0; i < args_.size(); ++i) {
        const std::string_view arg = args_[i];
        if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=') {
            found = std::string(arg.substr(flag.size() + 1));
            read_[i] = true;
        } else if (arg == flag) {
            if (i + 1 >= args_.size())
                throw std::invalid_argument("keel: " + std::string(flag) + " needs a value");
            read_[i] = read_[i + 1] = true;
            found = args_[++i];
        }
    }
    return found;
}

bool command_line::has(std::string_view flag) {
    bool found = false;
    for (std::size_t i = 0; i < args_.size(); ++i) {
        const std::string_view arg = args_[i];
        if (arg == flag) {
            read_[i] = true;
            found = true;
        } else if (arg.substr(0, flag.size()) == flag && arg.size() > flag.size() &&
                   arg[flag.size()] == '=') {
            throw std::invalid_argument("keel: " + std::string(flag) + " takes no value");
        }
    }
    return found;
}

std::vector<std::string> command_line::unread() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args_.size(); ++i) {
        if (!read_[i]) out.push_back(args_[i]);
    }
    return out;
}

}  // namespace keel
