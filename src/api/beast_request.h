// A request as Beast parsed it, turned into the HttpRequest the router and services see
// (http_message.h): the target split into a percent-decoded path and the raw query, header names
// in lower case. The HTTP server and the request reader's fuzz target share it, so what is fuzzed
// is what serves.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

#include "api/http_message.h"

namespace taskq::api {

// nullopt when the path holds a malformed percent escape or a NUL (answered 400). Takes the body
// out of `request`.
std::optional<HttpRequest> FromBeastRequest(
    boost::beast::http::request<boost::beast::http::string_body>& request);
// The same without the body (left where it is): a request whose body is not read yet.
std::optional<HttpRequest> HeadFromBeastRequest(
    const boost::beast::http::request<boost::beast::http::string_body>& request);

}  // namespace taskq::api
