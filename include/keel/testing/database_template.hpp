#pragma once

#include <keel/session.hpp>
#include <keel/testing/postgres_server.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace keel::testing {

/// A database made for one test, dropped when it is destroyed (connections still open to it
/// are terminated). Made by database_template::make().
class fresh_database {
public:
    fresh_database(fresh_database&& other) noexcept;
    fresh_database& operator=(fresh_database&&) = delete;
    ~fresh_database();  // drops the database; never throws

    const std::string& name() const noexcept { return name_; }
    /// libpq URL of this database.
    const std::string& url() const noexcept { return url_; }

private:
    friend class database_template;
    fresh_database(std::string admin_url, std::string name, std::string url);
    std::string admin_url_;
    std::string name_;
    std::string url_;
};

/// The isolation mode for tests that need real commits or several connections at once
/// (concurrency, pool behaviour): a database with the schema applied once, copied for each
/// test by PostgreSQL (`CREATE DATABASE ... TEMPLATE ...`, a file copy: no schema replay).
/// ```
/// static keel::testing::database_template bank(server, "bank_template", schema_sql);
/// auto db = bank.make();                 // this test's own database
/// keel::engine engine({.url = db.url()});
/// ```
/// Thread safe: tests running in parallel each get their own copy.
class database_template {
public:
    /// Creates the template database `name` on `server` (replacing a leftover of that name)
    /// and runs `schema_sql` in it (several statements allowed).
    database_template(const postgres_server& server, std::string name, std::string_view schema_sql);
    /// The same, prepared by the service's own code in one committed session:
    /// `database_template bank(server, "bank", [](keel::session& db) { apply_schema(db); seed(db); });`
    database_template(const postgres_server& server, std::string name,
                      const std::function<void(keel::session&)>& prepare);
    /// Drops the template. Never throws.
    ~database_template();
    database_template(const database_template&) = delete;
    database_template& operator=(const database_template&) = delete;

    /// A new database copied from the template.
    fresh_database make() const;

    const std::string& name() const noexcept { return name_; }

private:
    void create_empty() const;  // replaces a leftover of the same name

    const postgres_server& server_;
    std::string name_;
};

}  // namespace keel::testing
