#pragma once

// Declarations of keel's types, for headers that only pass them around.

namespace keel {

class app;
class dependency_overrides;
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
enum class scope;
template <class T>
class task;
template <class T>
class yield;
template <auto Provider, scope Scope>
class depends;

}  // namespace keel
