#include <keel/trace_context.hpp>

#include <algorithm>

namespace keel {

std::string trace_context::traceparent() const {
    static constexpr std::string_view digits = "0123456789abcdef";
    const unsigned sampled_only = flags_ & 0x01U;
    std::string out;
    out.reserve(55);
    out += "00-";
    out += trace_id();
    out += '-';
    out += span_id();
    out += "-0";
    out += digits[sampled_only];
    return out;
}

void trace_context::set(std::string_view trace_id, std::string_view parent_id, std::string_view span_id,
                        std::uint8_t flags, std::string_view tracestate) {
    std::copy_n(trace_id.data(), std::min(trace_id.size(), trace_id_.size()), trace_id_.data());
    has_parent_ = parent_id.size() == parent_id_.size();
    if (has_parent_) std::copy_n(parent_id.data(), parent_id_.size(), parent_id_.data());
    std::copy_n(span_id.data(), std::min(span_id.size(), span_id_.size()), span_id_.data());
    flags_ = flags;
    tracestate_.assign(tracestate);
}

}  // namespace keel
