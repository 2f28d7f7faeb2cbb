// docs/testing.md shows this file whole: a small service and its tests, written the way a
// service tests itself with keel (in a real project the routes live in the service's sources).
#include <gtest/gtest.h>
#include <keel/keel.hpp>
#include <keel/testing/client.hpp>
#include <keel/testing/database_template.hpp>
#include <keel/testing/isolated_database.hpp>
#include <keel/testing/postgres_environment.hpp>

#include <memory>
#include <string>

namespace {

// --- the service ---

struct todo {
    std::int64_t id;
    std::string title;
    KEEL_MODEL(todo, id, title)
};

constexpr const char* todo_schema =
    "CREATE TABLE IF NOT EXISTS todos (id bigserial PRIMARY KEY, title text NOT NULL)";

void configure(keel::app& app, keel::engine_options database) {
    app.provide<keel::engine>(keel::scope::app,
                              [database] { return std::make_shared<keel::engine>(database); });
    app.provide<keel::session_factory>(keel::scope::app,
                                       [](keel::engine& e) { return keel::session_factory{e}; });
    app.on_startup([](keel::session_factory& sessions) {
        auto db = sessions.open();
        db.exec(todo_schema);
        db.commit();
    });
    using db_session = keel::depends<keel::get_session>;
    app.post("/todos",
             [](keel::query<std::string, "title"> title, db_session db) {
                 if (title->empty())
                     throw keel::http_error(keel::status::unprocessable_entity, "a todo needs a title");
                 return db->one<todo>("INSERT INTO todos (title) VALUES ($1) RETURNING id, title", *title);
             })
        .status(keel::status::created);
    app.get("/todos", [](db_session db) { return db->all<todo>("SELECT id, title FROM todos ORDER BY id"); });
}

// --- its tests ---

using keel::testing::postgres_environment;  // main() adds it: one throwaway PostgreSQL per binary

keel::engine_options test_database() {
    keel::engine_options o;
    o.url = postgres_environment::server().url();
    return o;
}

keel::engine& test_engine() {  // the connection the isolated tests borrow, one per binary
    static keel::engine e(test_database());
    return e;
}

struct todo_service {
    todo_service() { configure(app, test_database()); }
    keel::app app;
};

// Isolated mode: every test runs in a transaction of its own that is rolled back at its end.
class TodoTest : public ::testing::Test {
protected:
    todo_service service_;
    keel::testing::client client_{service_.app};  // runs the lifespan: the table exists from here on
    keel::testing::isolated_database db_{test_engine()};
    keel::dependency_overrides::guard restore_ =
        client_.override(keel::get_session, [this] { return keel::get_session(db_.sessions()); });
};

TEST_F(TodoTest, CreatedTodosAreListed) {
    EXPECT_EQ(client_.post("/todos?title=milk", nullptr).status(), 201);
    const auto list = client_.get("/todos");
    ASSERT_EQ(list.status(), 200) << list;
    ASSERT_EQ(list.json().size(), 1u);
    EXPECT_EQ(list.json()[0]["title"], "milk");
}

TEST_F(TodoTest, EachTestStartsEmpty) {  // the todo above was rolled back
    EXPECT_EQ(client_.get("/todos").json().size(), 0u);
}

TEST_F(TodoTest, RollsBackOnError) {
    EXPECT_EQ(client_.post("/todos?title=", nullptr).status(), 422);
    EXPECT_EQ(db_.open().scalar<long>("SELECT count(*) FROM todos"), 0);
}

// Template mode: a database of its own, with real commits and as many connections as needed.
TEST(TodoConcurrency, TwoSessionsSeeEachOthersCommits) {
    static keel::testing::database_template todos(postgres_environment::server(), "todo_template",
                                                  todo_schema);
    auto database = todos.make();
    keel::engine_options o;
    o.url = database.url();
    keel::engine e(o);
    keel::session_factory sessions(e);

    auto writer = sessions.open();
    writer.exec("INSERT INTO todos (title) VALUES ('bread')");
    auto reader = sessions.open();
    EXPECT_EQ(reader.scalar<long>("SELECT count(*) FROM todos"), 0);  // not yet committed
    reader.rollback();
    writer.commit();
    EXPECT_EQ(reader.scalar<long>("SELECT count(*) FROM todos"), 1);
}

}  // namespace
