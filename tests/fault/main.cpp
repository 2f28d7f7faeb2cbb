// The fault and load tests: examples/bank as a process, on a throwaway PostgreSQL.
#include <gtest/gtest.h>
#include <keel/testing/postgres_environment.hpp>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new keel::testing::postgres_environment);
    return RUN_ALL_TESTS();
}
