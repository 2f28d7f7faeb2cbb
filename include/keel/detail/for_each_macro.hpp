#pragma once

// KEEL_DETAIL_FOR_EACH(m, a, b, c) expands to m(a) m(b) m(c): the field lists of KEEL_MODEL.
// The three nested levels of KEEL_DETAIL_EXPAND give 4 x 4 x 4 rescans, one name each: the
// list is bounded at 64 names (as nlohmann's macros are).

#define KEEL_DETAIL_PARENS ()
#define KEEL_DETAIL_EXPAND(...) \
    KEEL_DETAIL_EXPAND3(KEEL_DETAIL_EXPAND3(KEEL_DETAIL_EXPAND3(KEEL_DETAIL_EXPAND3(__VA_ARGS__))))
#define KEEL_DETAIL_EXPAND3(...) \
    KEEL_DETAIL_EXPAND2(KEEL_DETAIL_EXPAND2(KEEL_DETAIL_EXPAND2(KEEL_DETAIL_EXPAND2(__VA_ARGS__))))
#define KEEL_DETAIL_EXPAND2(...) \
    KEEL_DETAIL_EXPAND1(KEEL_DETAIL_EXPAND1(KEEL_DETAIL_EXPAND1(KEEL_DETAIL_EXPAND1(__VA_ARGS__))))
#define KEEL_DETAIL_EXPAND1(...) __VA_ARGS__

#define KEEL_DETAIL_FOR_EACH(macro, ...) \
    __VA_OPT__(KEEL_DETAIL_EXPAND(KEEL_DETAIL_FOR_EACH_STEP(macro, __VA_ARGS__)))
#define KEEL_DETAIL_FOR_EACH_STEP(macro, first, ...) \
    macro(first) __VA_OPT__(KEEL_DETAIL_FOR_EACH_AGAIN KEEL_DETAIL_PARENS(macro, __VA_ARGS__))
#define KEEL_DETAIL_FOR_EACH_AGAIN() KEEL_DETAIL_FOR_EACH_STEP
