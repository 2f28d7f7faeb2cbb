#pragma once

// Declarations of keel's types, for headers that only pass them around.

namespace keel {

class app;
class header_map;
class http_error;
class logger;
class next;
class request;
class response;
class route;
class router;
class server;
class validation_error;
struct server_options;
struct field_error;
struct parse_failure;
enum class method : unsigned char;
enum class status : unsigned short;
enum class log_level;
template <class T>
class task;

}  // namespace keel
