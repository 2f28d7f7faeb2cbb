// A statement parameter keel cannot send as text.
// expect: keel: a statement parameter is a number, bool, string, std::optional of those, or nullptr
#include <keel/session.hpp>

#include <vector>

void f(keel::session& db) {
    db.exec("SELECT $1", std::vector<int>{1, 2});
}
