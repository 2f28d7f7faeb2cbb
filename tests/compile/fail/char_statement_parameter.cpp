// A char parameter is ambiguous: a letter, or a number?
// expect: keel: a statement parameter of type char is ambiguous
#include <keel/session.hpp>

void f(keel::session& db) {
    db.exec("SELECT $1", 'A');
}
