#include <keel/get_session.hpp>

namespace keel {

namespace {

yield<session> open_and_commit(session s) {
    try {
        co_yield s;
        s.commit();  // may throw: the client then gets an error, never a false success
    } catch (...) {
        s.rollback();
        throw;
    }
}

}  // namespace

yield<session> get_session(session_factory& sessions) {
    return open_and_commit(sessions.open());
}

yield<session> get_read_only_session(session_factory& sessions) {
    auto options = sessions.defaults();
    options.read_only = true;
    return open_and_commit(sessions.open(options));
}

yield<session> get_autocommit_read_session(session_factory& sessions) {
    auto options = sessions.defaults();
    options.read_only = true;
    options.autocommit = true;
    return open_and_commit(sessions.open(options));
}

}  // namespace keel
