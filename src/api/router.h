// Maps a method and a path to a route. Patterns are literal segments and "{name}" parameters
// ("/api/jobs/{id}/retry"); a parameter matches one non-empty segment. Routes are added
// explicitly at start-up (api_service.cc) and the OpenAPI document is generated from them, so the
// two cannot disagree.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"

namespace taskq::api {

enum class Scope { kNone, kRead, kEnqueue, kAdmin };  // what an API key must grant
const char* ScopeName(Scope scope);

struct RouteParams {
  std::vector<std::pair<std::string, std::string>> values;
  const std::string& operator[](std::string_view name) const;
};

using RouteHandler = std::function<void(HttpRequest&&, const RouteParams&, Respond)>;

// What the OpenAPI document says about a route beyond its method and path.
struct RouteDoc {
  std::string summary;
  std::vector<std::string> query;  // query parameters, "name:type:description"
  std::string request_schema;      // component name of the JSON body, or empty
  std::string response_schema;     // component name of a 2xx JSON body, or empty
  std::vector<int> statuses;       // statuses it answers besides the common errors
};

struct Route {
  std::string method;
  std::string pattern;
  Scope scope = Scope::kRead;
  RouteDoc doc;
  RouteHandler handler;
  std::vector<std::string> segments;  // the pattern split at '/'
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Scope scope, RouteDoc doc,
           RouteHandler handler);

  enum class MatchKind { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    MatchKind kind = MatchKind::kNotFound;
    const Route* route = nullptr;
    RouteParams params;
    std::string allow;  // kMethodNotAllowed: the methods the path accepts, "GET, POST"
  };
  Match Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace taskq::api
