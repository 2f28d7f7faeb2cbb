// Fuzzes JSON body binding into nested models: deep nesting, huge numbers, duplicate keys,
// invalid UTF-8. Every input must bind (201) or be refused as 422, nothing else.
#include "fuzz_app.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    const auto res =
        keel_fuzz::client().send(keel::method::post, "/orders", body, {{"Content-Type", "application/json"}});
    const auto code = keel::to_int(res.status());
    if (code != 201 && code != 422) std::abort();
    return 0;
}
