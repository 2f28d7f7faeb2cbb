// Fuzzes what the server does with the first bytes of a connection: Beast's parser under
// keel's production limits, the RFC 9112 framing checks, the conversion to keel::request, then
// routing, binding and the response's serialisation.
#include "fuzz_app.hpp"
#include "http/framing.hpp"
#include "http/wire.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const keel::server_options limits;  // the defaults a production server runs with
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto result = keel::detail::parse_request(bytes, limits);
    if (result.rejected) {
        std::string out;
        keel::detail::write_response(keel::detail::framing_error(*result.rejected, "rejected"), {}, out);
        return 0;
    }
    if (!result.parsed) return 0;
    const auto res = keel_fuzz::client().send(std::move(*result.parsed));
    keel_fuzz::check(res);
    std::string out;
    keel::detail::write_response(res, {"keel", true, false, false}, out);
    return 0;
}
