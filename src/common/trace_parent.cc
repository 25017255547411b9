#include "common/trace_parent.h"

namespace taskq {
namespace {

bool LowerHex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZeros(std::string_view text) {
  return text.find_first_not_of('0') == std::string_view::npos;
}

}  // namespace

bool IsTraceParent(std::string_view text) {
  // 2 + 1 + 32 + 1 + 16 + 1 + 2
  if (text.size() != 55 || text[2] != '-' || text[35] != '-' || text[52] != '-') return false;
  const std::string_view version = text.substr(0, 2), trace_id = text.substr(3, 32),
                         parent_id = text.substr(36, 16), flags = text.substr(53, 2);
  return version == "00" && LowerHex(trace_id) && LowerHex(parent_id) && LowerHex(flags) &&
         !AllZeros(trace_id) && !AllZeros(parent_id);
}

Status CheckTraceParent(std::string_view text) {
  if (IsTraceParent(text)) return Status::Ok();
  return InvalidArgument("traceparent",
                         "must be a W3C traceparent: 00-<32 lowercase hex>-<16 lowercase hex>-<2 "
                         "lowercase hex>, neither id all zeros");
}

std::string_view TraceIdOf(std::string_view trace_parent) {
  return IsTraceParent(trace_parent) ? trace_parent.substr(3, 32) : std::string_view();
}

}  // namespace taskq
