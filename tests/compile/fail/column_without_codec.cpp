// A column read into a type nothing knows how to parse from PostgreSQL's text.
// expect: keel: no codec<T> for this column type
#include <keel/row.hpp>

struct point {
    int x = 0, y = 0;
};

point f(const keel::row& r) {
    return r.get<point>(std::size_t{0});
}
