#include <keel/get_async_session.hpp>

namespace keel {

namespace {

async_yield<async_session> open_and_commit(async_session s) {
    std::exception_ptr failure;
    try {
        co_yield s;
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        co_await s.rollback();  // (not in the catch block: C++ cannot co_await there)
        std::rethrow_exception(failure);
    }
    co_await s.commit();  // may throw: the client then gets an error, never a false success
}

}  // namespace

async_yield<async_session> get_async_session(session_factory& sessions) {
    return open_and_commit(sessions.open_async());
}

async_yield<async_session> get_read_only_async_session(session_factory& sessions) {
    auto options = sessions.defaults();
    options.read_only = true;
    return open_and_commit(sessions.open_async(options));
}

async_yield<async_session> get_autocommit_read_async_session(session_factory& sessions) {
    auto options = sessions.defaults();
    options.read_only = true;
    options.autocommit = true;
    return open_and_commit(sessions.open_async(options));
}

}  // namespace keel
