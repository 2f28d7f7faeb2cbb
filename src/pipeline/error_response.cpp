// What a request that failed is answered with: the app's own exception handlers first, then
// keel's rules. The only place where database outcomes become HTTP statuses:
//
//   http_error              its status and headers
//   validation_error        422, every failing field
//   commit_in_doubt         500 "outcome unknown", never Retry-After: the write may have happened
//   connection_lost         503 + Retry-After: the connection broke before COMMIT, nothing was written
//   pool_timeout            503 + Retry-After
//   deadline_exceeded       504: the database was too slow for the request's deadline; rolled back
//   client_hung_up          499, for the access log: the client left, its statement was cancelled
//   server_busy             503 + Retry-After
//   anything else           500, logged
//
// Every 5xx body also holds the request's id ({"detail": ..., "request_id": ...}).

#include "pipeline/pipeline.hpp"

#include <keel/database_error.hpp>
#include <keel/http_error.hpp>
#include <keel/offload.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/request_logger.hpp>
#include <keel/validation_error.hpp>

#include <nlohmann/json.hpp>
#include <string>

namespace keel::detail {

namespace {

// "POST /transfers": what a failed request's log line names in its message; its fields name the
// request's id, trace, method and route.
std::string describe(const request& req) {
    return std::string(req.method_name()) + ' ' + std::string(req.path());
}

// A 5xx body names the request, so that a user can quote it and an operator find its log lines.
response server_error(std::string_view detail, status code, const request& req) {
    return response::json({{"detail", detail}, {"request_id", req.id()}}, code);
}

response internal_error(const request& req) {
    return server_error("Internal Server Error", status::internal_server_error, req);
}

// Nothing of the request took effect, and trying again later may work: the one place that
// answers with Retry-After.
response retry_later(std::string_view detail, const request& req) {
    response res = server_error(detail, status::service_unavailable, req);
    res.headers().set("Retry-After", "1");
    return res;
}

}  // namespace

response pipeline::error_response(const std::exception_ptr& error, const request& req) const {
    const request_logger log(log_, req);
    try {
        for (const auto& mapper : exception_mappers) {
            if (auto res = mapper(error, req)) return std::move(*res);
        }
    } catch (const std::exception& e) {
        log.error("keel: an exception handler failed for " + describe(req) + ": " + e.what());
        counts_.unhandled.fetch_add(1, std::memory_order_relaxed);
        return internal_error(req);
    } catch (...) {
        log.error("keel: an exception handler failed with a non-std exception for " + describe(req));
        counts_.unhandled.fetch_add(1, std::memory_order_relaxed);
        return internal_error(req);
    }
    try {
        std::rethrow_exception(error);
    } catch (const http_error& e) {
        response res = to_int(e.status()) >= 500 ? server_error(e.detail(), e.status(), req)
                                                 : response::json({{"detail", e.detail()}}, e.status());
        for (const auto& [name, value] : e.headers()) res.headers().add(name, value);
        return res;
    } catch (const validation_error& e) {
        nlohmann::json detail = nlohmann::json::array();
        for (const auto& f : e.errors()) detail.push_back({{"loc", f.loc}, {"msg", f.msg}, {"type", f.type}});
        return response::json({{"detail", std::move(detail)}}, status::unprocessable_entity);
    } catch (const commit_in_doubt& e) {
        counts_.commit_outcome_unknown.fetch_add(1, std::memory_order_relaxed);
        log.error("keel: commit outcome unknown in " + describe(req) +
                  ": the connection broke during COMMIT; the transaction may or may not have committed: " +
                  e.what());
        return server_error(
            "the database connection was lost while committing: the outcome is unknown, "
            "the changes may or may not have been saved; check before retrying",
            status::internal_server_error, req);
    } catch (const connection_lost& e) {
        counts_.database_unavailable.fetch_add(1, std::memory_order_relaxed);
        log.error("keel: database unreachable in " + describe(req) + ": " + e.what());
        return retry_later("Service Unavailable", req);
    } catch (const pool_timeout& e) {
        counts_.pool_exhausted.fetch_add(1, std::memory_order_relaxed);
        log.warning("keel: " + std::string(e.what()) + " in " + describe(req));
        return retry_later(e.what(), req);
    } catch (const client_hung_up& e) {
        // Nobody is left to read the answer; nginx's 499 says so in the access log.
        log.info(std::string(e.what()) + " in " + describe(req));
        return response::json({{"detail", "client closed the request"}}, static_cast<status>(499));
    } catch (const deadline_exceeded& e) {
        counts_.deadline_exceeded.fetch_add(1, std::memory_order_relaxed);
        log.warning(std::string(e.what()) + " in " + describe(req));
        return server_error(
            "the database did not answer within the request's deadline; nothing was committed",
            status::gateway_timeout, req);
    } catch (const server_busy&) {
        counts_.server_busy.fetch_add(1, std::memory_order_relaxed);
        return retry_later("server busy", req);
    } catch (const std::exception& e) {
        log.error("keel: unhandled exception in " + describe(req) + ": " + e.what());
    } catch (...) {
        log.error("keel: unhandled non-std exception in " + describe(req));
    }
    counts_.unhandled.fetch_add(1, std::memory_order_relaxed);
    return internal_error(req);
}

}  // namespace keel::detail
