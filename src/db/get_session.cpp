#include <keel/get_session.hpp>

namespace keel {

yield<session> get_session(session_factory& sessions) {
    session s = sessions.open();
    try {
        co_yield s;
        s.commit();  // may throw: the client then gets an error, never a false success
    } catch (...) {
        s.rollback();
        throw;
    }
}

}  // namespace keel
