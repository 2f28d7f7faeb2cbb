// A statement parameter keel cannot send as text.
// expect: keel: a statement parameter is a type keel maps
#include <keel/session.hpp>

struct point {
    int x = 0, y = 0;
};

void f(keel::session& db) {
    db.exec("SELECT $1", point{});
}
