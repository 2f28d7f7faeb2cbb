#pragma once

// Include in a GoogleTest binary's main (or any test file) to share one throwaway PostgreSQL
// among all its tests:
//
//   int main(int argc, char** argv) {
//       ::testing::InitGoogleTest(&argc, argv);
//       ::testing::AddGlobalTestEnvironment(new keel::testing::postgres_environment);
//       return RUN_ALL_TESTS();
//   }
//
// Header-only, so keel::testing itself does not link GoogleTest.

#include <keel/testing/postgres_server.hpp>

#include <gtest/gtest.h>

namespace keel::testing {

/// Starts the binary's PostgreSQL before the first test and stops it after the last, failed
/// tests included. A server that cannot start fails the run (never skips it).
class postgres_environment : public ::testing::Environment {
public:
    /// The server of this test binary (started by the environment).
    static postgres_server& server() {
        static postgres_server instance;
        return instance;
    }

    void SetUp() override {
        try {
            server().start();
        } catch (const std::exception& e) {
            FAIL() << e.what();
        }
    }
    void TearDown() override { server().stop(); }
};

}  // namespace keel::testing
