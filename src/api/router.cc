#include "api/router.h"

#include <cassert>

namespace taskq::api {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

const char* ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kNone:
      return "none";
    case Scope::kRead:
      return "read";
    case Scope::kEnqueue:
      return "enqueue";
    case Scope::kAdmin:
      return "admin";
  }
  return "admin";
}

const std::string& RouteParams::operator[](std::string_view name) const {
  for (const auto& [key, value] : values) {
    if (key == name) return value;
  }
  static const std::string kEmpty;
  return kEmpty;
}

void Router::Add(std::string method, std::string pattern, Scope scope, RouteDoc doc,
                 RouteHandler handler) {
  Route route{std::move(method), std::move(pattern), scope, std::move(doc), std::move(handler), {}};
  for (std::string_view s : Split(route.pattern)) route.segments.emplace_back(s);
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  const std::vector<std::string_view> parts = Split(path);
  for (const Route& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    RouteParams params;
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      const std::string& segment = route.segments[i];
      if (IsParam(segment)) {
        if (parts[i].empty())
          ok = false;
        else
          params.values.emplace_back(segment.substr(1, segment.size() - 2), parts[i]);
      } else {
        ok = segment == parts[i];
      }
    }
    if (!ok) continue;
    if (route.method == method || (method == "HEAD" && route.method == "GET")) {
      match.kind = MatchKind::kFound;
      match.route = &route;
      match.params = std::move(params);
      return match;
    }
    match.kind = MatchKind::kMethodNotAllowed;
    if (match.allow.find(route.method) == std::string::npos) {
      match.allow += (match.allow.empty() ? "" : ", ") + route.method;
    }
  }
  return match;
}

}  // namespace taskq::api
