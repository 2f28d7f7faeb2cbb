#include <keel/retry.hpp>

#include <gtest/gtest.h>

using namespace std::chrono_literals;

TEST(RetryTest, RetriesConflictsUpToTheAttempts) {
    int tries = 0;
    const int result = keel::retry_on_conflict([&] {
        if (++tries < 3) throw keel::deadlock_detected("deadlock detected", "40P01");
        return 42;
    });
    EXPECT_EQ(result, 42);
    EXPECT_EQ(tries, 3);

    tries = 0;
    EXPECT_THROW(keel::retry_on_conflict(
                     [&]() -> int {
                         ++tries;
                         throw keel::serialization_failure("no", "40001");
                     },
                     {.attempts = 4, .base_delay = 1ms}),
                 keel::serialization_failure);
    EXPECT_EQ(tries, 4);
}

TEST(RetryTest, NeverRetriesOtherErrorsOrACommitInDoubt) {
    int tries = 0;
    EXPECT_THROW(keel::retry_on_conflict([&] {
                     ++tries;
                     throw keel::commit_in_doubt("connection lost during COMMIT", "08006");
                 }),
                 keel::commit_in_doubt);
    EXPECT_EQ(tries, 1);
    tries = 0;
    EXPECT_THROW(keel::retry_on_conflict([&] {
                     ++tries;
                     throw keel::unique_violation("duplicate", "23505");
                 }),
                 keel::unique_violation);
    EXPECT_EQ(tries, 1);
}
