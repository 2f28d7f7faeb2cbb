#include <keel/request.hpp>
#include <keel/request_logger.hpp>

namespace keel {

request_logger::context_fields request_logger::context_of(const request& req) noexcept {
    return {{{{"request_id", req.id()},
              {"trace_id", req.trace().trace_id()},
              {"span_id", req.trace().span_id()},
              {"method", req.method_name()},
              {"route", req.route()}}},
            req.route().empty() ? std::size_t{4} : std::size_t{5}};  // unrouted: no route field
}

void request_logger::log(log_level l, std::string_view message, logger::fields f) const {
    if (!log_->enabled(l)) return;
    const auto context = context_of(*req_);
    log_->write(l, message, context.view(), {f.begin(), f.size()});
}

}  // namespace keel
