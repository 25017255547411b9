// The form of a completion callback URL (EnqueueOptions::callback_url), checked when the job is
// enqueued. Only the form: where the URL leads is checked when the callback's webhook job runs,
// by the webhook handler's address guard (handlers/address_guard.h), as for any webhook.
#pragma once

#include <cstddef>
#include <string_view>

#include "taskq/status.h"

namespace taskq {

inline constexpr size_t kMaxCallbackUrlBytes = 8192;

// http:// or https:// (any case), a host, at most kMaxCallbackUrlBytes of printable ASCII without
// spaces, and no user:password@ (a callback carries no credentials of its own). Errors name
// `field`.
Status CheckCallbackUrl(std::string_view field, std::string_view url);

}  // namespace taskq
