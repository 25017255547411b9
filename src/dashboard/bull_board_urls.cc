#include "dashboard/bull_board_urls.h"

#include <utility>

#include "api/query.h"
#include "common/percent_encoding.h"

namespace taskq::dashboard {
namespace {

// This dashboard's state for a Bull Board status; empty for none (the queue's default view).
std::string_view StateOf(std::string_view status) {
  static constexpr std::pair<std::string_view, std::string_view> kStates[] = {
      {"active", "active"},       {"waiting", "waiting"},       {"paused", "waiting"},
      {"prioritized", "waiting"}, {"waiting-children", "held"}, {"completed", "completed"},
      {"failed", "dead"},         {"delayed", "delayed"}};
  for (const auto& [bull, ours] : kStates) {
    if (bull == status) return ours;
  }
  return {};
}

}  // namespace

std::optional<std::string> BullBoardFragment(std::string_view rest, std::string_view query) {
  constexpr std::string_view kQueue = "/queue/";
  if (!rest.starts_with(kQueue)) return std::nullopt;
  rest.remove_prefix(kQueue.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t slash = rest.find('/');
  const std::string_view queue = rest.substr(0, slash);
  const std::string_view job = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (queue.empty() || job.find('/') != std::string_view::npos) return std::nullopt;
  if (!job.empty()) return "#/jobs/" + PercentEncode(queue) + "/" + PercentEncode(job);
  std::string fragment = "#/queues/" + PercentEncode(queue);
  const std::string_view state = StateOf(api::QueryParam(query, "status").value_or(""));
  if (!state.empty()) fragment += "?state=" + std::string(state);
  return fragment;
}

}  // namespace taskq::dashboard
