// The media type of a request body: every body the API reads is JSON.
#pragma once

#include <optional>
#include <string_view>

#include "api/http_message.h"

namespace taskq::api {

// Whether a Content-Type value names JSON: application/json or any application/...+json, in any
// case, with or without parameters ("application/json; charset=utf-8").
bool IsJsonMediaType(std::string_view content_type);

// 415 when `request` has a body whose Content-Type names something else than JSON (a form, text);
// nullopt when it may go on. A body without a Content-Type is taken as JSON.
std::optional<HttpResponse> UnsupportedMediaType(const HttpRequest& request);

}  // namespace taskq::api
