// Swagger UI's script and style sheet, built into keel: the docs page works with no internet.
// KEEL_SWAGGER_UI_DIR is swagger-ui-dist as npm installed it at build time (tools/swagger-ui,
// its version and integrity pinned by the package lock); .incbin places the files' bytes in
// the library as they are, without a multi-megabyte array for the compiler to parse.

#include "openapi/docs_page.hpp"

#ifdef KEEL_SWAGGER_UI_DIR

#define KEEL_DETAIL_INCBIN(name, file)                        \
    ".section .rodata\n"                                      \
    ".balign 16\n"                                            \
    ".hidden " #name "_begin\n.globl " #name "_begin\n" #name \
    "_begin:\n"                                               \
    ".incbin \"" KEEL_SWAGGER_UI_DIR "/" file                 \
    "\"\n"                                                    \
    ".hidden " #name "_end\n.globl " #name "_end\n" #name     \
    "_end:\n"                                                 \
    ".previous\n"

// NOLINTNEXTLINE(hicpp-no-assembler): the one portable-enough way to embed a file before C++26's #embed
asm(KEEL_DETAIL_INCBIN(keel_swagger_ui_script, "swagger-ui-bundle.js")
        KEEL_DETAIL_INCBIN(keel_swagger_ui_style, "swagger-ui.css"));

extern "C" {
extern const char keel_swagger_ui_script_begin[], keel_swagger_ui_script_end[];
extern const char keel_swagger_ui_style_begin[], keel_swagger_ui_style_end[];
}

namespace keel::detail {

std::string_view bundled_swagger_ui_script() {
    return {keel_swagger_ui_script_begin,
            static_cast<std::size_t>(keel_swagger_ui_script_end - keel_swagger_ui_script_begin)};
}
std::string_view bundled_swagger_ui_style() {
    return {keel_swagger_ui_style_begin,
            static_cast<std::size_t>(keel_swagger_ui_style_end - keel_swagger_ui_style_begin)};
}

}  // namespace keel::detail

#else

namespace keel::detail {

std::string_view bundled_swagger_ui_script() {
    return {};
}
std::string_view bundled_swagger_ui_style() {
    return {};
}

}  // namespace keel::detail

#endif
