#include <keel/testing/isolated_database.hpp>

#include "db/outer_transaction.hpp"

namespace keel::testing {

isolated_database::isolated_database(keel::engine& e, session_options defaults)
    : outer_(std::make_shared<keel::detail::outer_transaction>(e)), sessions_(outer_, defaults) {}

// The outer transaction rolls back when its last holder (this object, or a session that
// outlived it) lets go.
isolated_database::~isolated_database() = default;

}  // namespace keel::testing
