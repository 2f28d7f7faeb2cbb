#pragma once

// Everything a service writes against. Library code and tests include the precise headers.

#include <keel/access_log.hpp>
#include <keel/app.hpp>
#include <keel/body.hpp>
#include <keel/database_error.hpp>
#include <keel/dependency_overrides.hpp>
#include <keel/depends.hpp>
#include <keel/engine.hpp>
#include <keel/get_session.hpp>
#include <keel/header.hpp>
#include <keel/header_map.hpp>
#include <keel/http_error.hpp>
#include <keel/logger.hpp>
#include <keel/method.hpp>
#include <keel/middleware.hpp>
#include <keel/model.hpp>
#include <keel/offload.hpp>
#include <keel/param_parser.hpp>
#include <keel/path.hpp>
#include <keel/pool_timeout.hpp>
#include <keel/query.hpp>
#include <keel/request.hpp>
#include <keel/response.hpp>
#include <keel/retry.hpp>
#include <keel/route.hpp>
#include <keel/router.hpp>
#include <keel/row.hpp>
#include <keel/scope.hpp>
#include <keel/server.hpp>
#include <keel/server_options.hpp>
#include <keel/session.hpp>
#include <keel/status.hpp>
#include <keel/task.hpp>
#include <keel/validation_error.hpp>
#include <keel/yield.hpp>
