// What a processor owes Redis between two round trips: the results of its jobs (completions,
// failures, postponements), their progress and log lines, and the overrun notices. Each round
// trip takes what is ready as one broker::FlushRequest; a round trip that fails, or parts Redis
// refuses, are put back in front, in their order, and sent again (a result whose token was used
// already is refused without effect, so resending is safe).
// Not thread-safe: the processor's mutex guards it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "broker/broker.h"
#include "taskq/enqueue_options.h"

namespace taskq::worker {

struct OutboxLimits {
  std::chrono::milliseconds lease{30000};  // the lease every flush renews and claims with
  int32_t max_errors_kept = 10;
  int32_t max_log_lines = 100;  // per job between two round trips, as Redis keeps them anyway
};

// True when the request carries anything besides lease renewals and a claim.
bool CarriesResults(const broker::FlushRequest& request);

class Outbox {
 public:
  explicit Outbox(OutboxLimits limits) : limits_(limits) {}

  void AddCompletion(broker::Completion completion, Retention keep);
  void AddFailure(broker::Failure failure, Retention keep);
  void AddPostponement(broker::Postponement postponement);
  void AddOverrun(broker::OverrunNotice notice);
  // Progress (empty: unchanged) and one log line (empty: none) of the job holding `lease`. The
  // newest progress wins; the log keeps the newest max_log_lines lines.
  void AddProgress(const broker::Lease& lease, std::string progress_json, std::string log_line);

  bool empty() const;
  // What is ready to send. One flush carries one retention policy per kind; results with another
  // policy wait for the next round trip (which follows at once), and so do overrun notices past
  // the 1000 that overrun.lua takes in one call.
  broker::FlushRequest Take();
  // Puts back what a failed round trip carried, in front of anything added since.
  void Restore(broker::FlushRequest& request);
  // Puts back the parts of `request` that Redis refused (their scripts changed nothing).
  void RestoreRefused(broker::FlushRequest& request, const broker::FlushResult& result);

 private:
  struct PendingCompletion {
    broker::Completion completion;
    Retention keep;
  };
  struct PendingFailure {
    broker::Failure failure;
    Retention keep;
  };

  const OutboxLimits limits_;
  std::deque<PendingCompletion> completions_;
  std::deque<PendingFailure> failures_;
  std::deque<broker::Postponement> postponements_;
  std::deque<broker::OverrunNotice> overruns_;  // marks and clears for overrun.lua
  std::unordered_map<std::string, broker::ProgressUpdate> progress_;  // by job id
};

}  // namespace taskq::worker
