// Bull Board's URLs, so that a Bull Board user's bookmarks and links land on the same view of
// this dashboard: BASE/queue/<name>[?status=<status>] is the queue's list, and
// BASE/queue/<name>/<job id> the job's page. The dashboard's views are fragments (#/queues/...),
// which only the browser reads: the server answers these paths with a redirect to them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace taskq::dashboard {

// The fragment ("#/queues/email?state=dead", "#/jobs/email/42") for `rest`, the request's
// percent-decoded path below the base path ("/queue/email"), and its raw query; nullopt when
// `rest` is no Bull Board path. Bull Board's statuses map to the nearest state: failed is dead;
// waiting, paused, prioritized and waiting-children are waiting; latest is the default view.
std::optional<std::string> BullBoardFragment(std::string_view rest, std::string_view query);

}  // namespace taskq::dashboard
