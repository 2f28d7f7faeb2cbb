#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel {

/// A request's place in a distributed trace (W3C Trace Context, https://www.w3.org/TR/trace-context/).
///
/// When the request carries a valid `traceparent`, its trace id, the caller's span id
/// (parent_id) and flags are kept, and so is `tracestate`; otherwise keel starts a new trace
/// (a random trace id, no parent, flags 00: not sampled). Either way the request gets a span id
/// of its own. keel names the trace and span ids in the request's log lines; a handler that calls
/// another service passes `traceparent()` and `tracestate()` on, so the callee's span is a child
/// of this request's.
class trace_context {
public:
    /// 32 lower-case hex digits, never all zeros.
    std::string_view trace_id() const noexcept { return {trace_id_.data(), trace_id_.size()}; }
    /// The calling span's id (16 lower-case hex digits); empty when the trace started here.
    std::string_view parent_id() const noexcept {
        return {parent_id_.data(), has_parent_ ? parent_id_.size() : 0};
    }
    /// This request's span: 16 lower-case hex digits, made by keel for every request.
    std::string_view span_id() const noexcept { return {span_id_.data(), span_id_.size()}; }
    /// The trace flags as received (00 for a trace started here); bit 0 is "sampled".
    std::uint8_t flags() const noexcept { return flags_; }
    bool sampled() const noexcept { return (flags_ & 0x01U) != 0; }
    /// The vendors' `tracestate` list as received (its fields joined by ','); empty when there
    /// was none, when traceparent was invalid, or when it held more than 512 characters or
    /// anything but printable ASCII.
    std::string_view tracestate() const noexcept { return tracestate_; }

    /// The `traceparent` for an outgoing call made for this request:
    /// "00-<trace_id>-<span_id>-<flags>" (flags other than "sampled" cleared, as version 00 asks).
    std::string traceparent() const;

    // Set by keel when a request arrives (see detail::assign_request_identity).
    void set(std::string_view trace_id, std::string_view parent_id, std::string_view span_id,
             std::uint8_t flags, std::string_view tracestate);

private:
    std::array<char, 32> trace_id_{};
    std::array<char, 16> parent_id_{};
    std::array<char, 16> span_id_{};
    std::uint8_t flags_ = 0;
    bool has_parent_ = false;
    std::string tracestate_;
};

}  // namespace keel
