// Where a listing of one state's jobs resumes (Inspector::Page and Inspector::Scan), and its
// opaque text form for APIs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "taskq/status.h"

namespace taskq {

// A state kept in a sorted set (delayed, retrying, active, completed, dead) resumes after the
// last job returned, by its sort key (score and id): jobs that join or leave the state meanwhile
// shift nothing, so a job that stays in the state is neither skipped nor listed twice.
// Waiting jobs span a list, a sorted set and the groups' sets, so their cursor is an offset into
// the run order: each job that leaves (or joins) before it shifts the rest by one.
struct JobCursor {
  int64_t offset = 0;       // the position, when `after_id` is empty
  std::string after_score;  // the sort key of the job to resume after, as Redis wrote it
  std::string after_id;

  static constexpr size_t kMaxTextBytes = 1024;

  static JobCursor AtOffset(int64_t offset) { return JobCursor{offset, {}, {}}; }
  static JobCursor After(std::string score, std::string id) {
    return JobCursor{0, std::move(score), std::move(id)};
  }
  bool keyed() const { return !after_id.empty(); }

  // Decimal digits for an offset (so an offset may also be given by hand); otherwise "k" then the
  // key in unpadded base64url, safe in a URL unescaped.
  std::string Encode() const;
  // kInvalidArgument naming `cursor` for text Encode cannot have written.
  static Result<JobCursor> Decode(std::string_view text);
};

}  // namespace taskq
