#include <keel/task.hpp>

#include <gtest/gtest.h>
#include <keel/offload.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace {
keel::task<int> answer() {
    co_return 42;
}
keel::task<int> add_one() {
    co_return co_await answer() + 1;
}
keel::task<void> fail() {
    co_await answer();
    throw std::runtime_error("failed");
}
keel::task<std::string> offloaded() {
    co_return co_await keel::offload([] { return std::string("done"); });
}

template <class T>
T run(keel::task<T> t) {
    std::optional<T> result;
    std::exception_ptr error;
    keel::detail::start_detached(std::move(t), [&](std::optional<T> v, std::exception_ptr e) {
        result = std::move(v);
        error = e;
    });
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}
}  // namespace

TEST(TaskTest, NestedTasksProduceValues) {
    EXPECT_EQ(run(add_one()), 43);
}

TEST(TaskTest, ExceptionsPropagateToTheAwaiter) {
    std::exception_ptr error;
    keel::detail::start_detached(fail(), [&](std::exception_ptr e) { error = e; });
    ASSERT_TRUE(error);
    EXPECT_THROW(std::rethrow_exception(error), std::runtime_error);
}

TEST(TaskTest, TasksAreLazyUntilAwaited) {
    bool ran = false;
    auto make = [&]() -> keel::task<int> {
        ran = true;
        co_return 1;
    };
    {
        auto t = make();
        EXPECT_FALSE(ran);
    }  // destroyed unstarted: no leak, no run
    EXPECT_FALSE(ran);
    auto t = make();
    EXPECT_FALSE(ran);
    EXPECT_EQ(run(std::move(t)), 1);  // awaited: now it runs
    EXPECT_TRUE(ran);
}

TEST(TaskTest, OffloadRunsInlineOutsideAServer) {
    EXPECT_EQ(run(offloaded()), "done");
}
