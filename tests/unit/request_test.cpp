#include <keel/request.hpp>

#include <gtest/gtest.h>

TEST(RequestTest, SplitsPathAndQuery) {
    keel::request req(keel::method::get, "/a/b?x=1&y=%41+B&flag&x=2");
    EXPECT_EQ(req.path(), "/a/b");
    EXPECT_EQ(req.query_string(), "x=1&y=%41+B&flag&x=2");
    EXPECT_EQ(req.query("y").value_or(""), "A B");
    EXPECT_EQ(req.query("flag").value_or("absent"), "");
    EXPECT_EQ(req.query("x").value_or(""), "1");
    EXPECT_EQ(req.query_params().size(), 4u);
    EXPECT_FALSE(req.query("z").has_value());
}

TEST(RequestTest, MalformedEscapesAreKeptAsWritten) {
    keel::request req(keel::method::get, "/?q=100%&r=%zz");
    EXPECT_EQ(req.query("q").value_or(""), "100%");
    EXPECT_EQ(req.query("r").value_or(""), "%zz");
}

TEST(RequestTest, HeadersAreCaseInsensitive) {
    keel::request req;
    req.headers().add("Content-Type", "text/plain");
    EXPECT_EQ(req.header("content-type").value_or(""), "text/plain");
    req.headers().set("CONTENT-TYPE", "application/json");
    EXPECT_EQ(req.headers().count("content-type"), 1u);
    EXPECT_EQ(req.header("Content-Type").value_or(""), "application/json");
}

TEST(RequestTest, MethodNamesRoundTrip) {
    EXPECT_EQ(keel::parse_method("DELETE"), keel::method::delete_);
    EXPECT_EQ(keel::to_string(keel::method::delete_), "DELETE");
    EXPECT_EQ(keel::parse_method("get"), keel::method::other);  // methods are case-sensitive
    keel::request req;
    req.set_method(keel::method::other, "PROPFIND");
    EXPECT_EQ(req.method_name(), "PROPFIND");
}
