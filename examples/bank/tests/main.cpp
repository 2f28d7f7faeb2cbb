// The bank's test binary: one throwaway PostgreSQL for all its tests.
#include <gtest/gtest.h>
#include <keel/testing/postgres_environment.hpp>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new keel::testing::postgres_environment);
    return RUN_ALL_TESTS();
}
