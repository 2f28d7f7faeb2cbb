// A deferred statement's result (include/keel/deferred_result.hpp): the session fills its slot
// once the call that carried the statement succeeded (db/result_data.hpp).

#include <keel/deferred_result.hpp>

#include "db/result_data.hpp"

#include <stdexcept>

namespace keel {

bool deferred_result::ready() const noexcept {
    return slot_ && slot_->rows;
}

keel::result deferred_result::get() const {
    if (!ready()) {
        throw std::logic_error(
            "keel: a deferred statement's result is read after the call that sent it (the session's next "
            "statement, or commit()) returned; this one has not been sent yet, or that call failed, or a "
            "rollback dropped it");
    }
    return keel::result(slot_);
}

}  // namespace keel
