#pragma once

#include <keel/task.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace keel {

namespace detail {
// Runs an event loop of its own on the calling thread: start(work) begins the work, and the
// loop runs until `finished`. src/io/event_loop.cpp.
void drive_event_loop(void (*start)(void*), void* work, const bool& finished);
}  // namespace detail

/// Runs `work` to its end on an event loop of the calling thread's own, and returns its value
/// (or throws its exception): how code outside a request (a background job, a script, a test)
/// uses keel's awaited calls, a keel::async_session among them.
/// ```
/// auto total = keel::sync_wait([](keel::session_factory& f) -> keel::task<std::int64_t> {
///     auto db = f.open_async();
///     auto n = co_await db.scalar<std::int64_t>("SELECT count(*) FROM users");
///     co_await db.commit();
///     co_return n;
/// }(sessions));
/// ```
/// The task must not block (keel's blocking calls refuse to run in it, as on a server's I/O
/// thread); keel::offload runs its callable inline here. Throws std::logic_error when called
/// on a thread that runs an event loop already (a server's I/O thread: co_await instead).
template <class T>
T sync_wait(task<T> work) {
    struct state {
        explicit state(task<T> w) : work(std::move(w)) {}
        task<T> work;
        std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
        std::exception_ptr error;
        bool finished = false;
    } s(std::move(work));
    detail::drive_event_loop(
        [](void* p) {
            auto& st = *static_cast<state*>(p);
            if constexpr (std::is_void_v<T>) {
                detail::start_detached(std::move(st.work), [&st](const std::exception_ptr& e) {
                    st.error = e;
                    st.finished = true;
                });
            } else {
                detail::start_detached(std::move(st.work),
                                       [&st](std::optional<T> v, const std::exception_ptr& e) {
                                           st.value = std::move(v);
                                           st.error = e;
                                           st.finished = true;
                                       });
            }
        },
        &s, s.finished);
    if (s.error) std::rethrow_exception(s.error);
    if constexpr (!std::is_void_v<T>) return std::move(*s.value);
}

}  // namespace keel
