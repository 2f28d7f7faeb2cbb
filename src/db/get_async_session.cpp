#include <keel/get_async_session.hpp>

namespace keel {

async_yield<async_session> get_async_session(session_factory& sessions) {
    async_session s = sessions.open_async();
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

}  // namespace keel
