// Fuzzes routing and parameter binding: the input is a method, a target and header fields, one
// per line ("name: value"), sent straight to the app (no HTTP framing in the way).
#include "fuzz_app.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto next_line = [&] {
        const auto end = input.find('\n');
        const auto line = input.substr(0, end);
        input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
        return line;
    };
    const auto method_token = next_line();
    const auto target = next_line();
    if (target.empty()) return 0;
    keel::request req(keel::parse_method(method_token), std::string(target), {});
    req.set_method(keel::parse_method(method_token), method_token);
    while (!input.empty()) {
        const auto line = next_line();
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        req.headers().add(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
    keel_fuzz::check(keel_fuzz::client().send(std::move(req)));
    return 0;
}
