// W3C Trace Context's traceparent (https://www.w3.org/TR/trace-context/): the trace a job belongs
// to, taken at enqueue, kept on the job and passed on by the handlers that call out (webhook).
#pragma once

#include <string_view>

#include "taskq/status.h"

namespace taskq {

// "00-<32 lowercase hex: trace id>-<16 lowercase hex: parent id>-<2 lowercase hex: flags>", with
// neither id all zeros (version 00, the only one defined; a version ff is invalid).
bool IsTraceParent(std::string_view text);

// OK when IsTraceParent(text); else kInvalidArgument naming the field "traceparent" and the rule.
Status CheckTraceParent(std::string_view text);

// The trace id part of a valid traceparent, for log lines; empty for anything else.
std::string_view TraceIdOf(std::string_view trace_parent);

}  // namespace taskq
