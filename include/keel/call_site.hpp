#pragma once

namespace keel {

/// A place in the source: what a default argument `where = keel::call_site::here()` records of
/// its caller (keel's sessions name where they were opened in their leak and slow-statement log
/// lines). Made with the compilers' __builtin_FILE/LINE/FUNCTION rather than
/// std::source_location, which clang before 15 cannot compile with libstdc++ 12.
struct call_site {
    const char* file = "";
    unsigned line = 0;  // 0: unknown
    const char* function = "";

    static constexpr call_site here(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                                    const char* function = __builtin_FUNCTION()) noexcept {
        return {file, line, function};
    }
};

}  // namespace keel
