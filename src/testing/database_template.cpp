#include <keel/testing/database_template.hpp>

#include <unistd.h>
#include <atomic>
#include <pqxx/pqxx>
#include <utility>

namespace keel::testing {

namespace {

// CREATE/DROP DATABASE cannot run in a transaction block: autocommit statements.
void run_admin(const std::string& admin_url, const std::string& sql) {
    pqxx::connection c(admin_url);
    pqxx::nontransaction(c).exec(sql);
}

std::string quoted(const std::string& admin_url, const std::string& name) {
    pqxx::connection c(admin_url);
    return c.quote_name(name);
}

}  // namespace

fresh_database::fresh_database(std::string admin_url, std::string name, std::string url)
    : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}

fresh_database::fresh_database(fresh_database&& other) noexcept
    : admin_url_(std::move(other.admin_url_)),
      name_(std::exchange(other.name_, {})),
      url_(std::move(other.url_)) {}

fresh_database::~fresh_database() {
    if (name_.empty()) return;
    try {
        run_admin(admin_url_, "DROP DATABASE IF EXISTS " + quoted(admin_url_, name_) + " WITH (FORCE)");
    } catch (...) {
        // The server may be gone already (the run is ending); nothing to keep tidy then.
    }
}

database_template::database_template(const postgres_server& server, std::string name,
                                     std::string_view schema_sql)
    : server_(server), name_(std::move(name)) {
    create_empty();
    // A simple-query round trip: the script may hold several statements. The connection
    // closes here: a template must have no sessions when it is copied.
    pqxx::connection c(server_.url_for(name_));
    pqxx::nontransaction(c).exec(std::string(schema_sql));
}

database_template::database_template(const postgres_server& server, std::string name,
                                     const std::function<void(keel::session&)>& prepare)
    : server_(server), name_(std::move(name)) {
    create_empty();
    engine_options options;
    options.url = server_.url_for(name_);
    options.pool_size = 1;
    keel::engine e(options);  // closed when this returns: a template must have no sessions when copied
    auto db = keel::session_factory(e).open();
    prepare(db);
    db.commit();
}

void database_template::create_empty() const {
    const auto admin = server_.url();
    const auto q = quoted(admin, name_);
    run_admin(admin, "DROP DATABASE IF EXISTS " + q + " WITH (FORCE)");
    run_admin(admin, "CREATE DATABASE " + q);
}

database_template::~database_template() {
    try {
        const auto admin = server_.url();
        run_admin(admin, "DROP DATABASE IF EXISTS " + quoted(admin, name_) + " WITH (FORCE)");
    } catch (...) {
    }
}

fresh_database database_template::make() const {
    static std::atomic<unsigned> made{0};
    const auto admin = server_.url();
    auto copy = name_ + "_" + std::to_string(::getpid()) + "_" + std::to_string(++made);
    run_admin(admin, "CREATE DATABASE " + quoted(admin, copy) + " TEMPLATE " + quoted(admin, name_) +
                         " STRATEGY FILE_COPY");
    auto url = server_.url_for(copy);
    return fresh_database(admin, std::move(copy), std::move(url));
}

}  // namespace keel::testing
