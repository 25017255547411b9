#include "worker/outbox.h"

#include <iterator>
#include <utility>

namespace taskq::worker {
namespace {
// overrun.lua takes at most this many notices a call.
constexpr size_t kMaxOverrunsPerFlush = 1000;
}  // namespace

bool CarriesResults(const broker::FlushRequest& request) {
  return !request.completions.empty() || !request.failures.empty() ||
         !request.postponements.empty() || !request.progress.empty() || !request.overruns.empty();
}

void Outbox::AddCompletion(broker::Completion completion, Retention keep) {
  completions_.push_back({std::move(completion), keep});
}

void Outbox::AddFailure(broker::Failure failure, Retention keep) {
  failures_.push_back({std::move(failure), keep});
}

void Outbox::AddPostponement(broker::Postponement postponement) {
  postponements_.push_back(std::move(postponement));
}

void Outbox::AddOverrun(broker::OverrunNotice notice) { overruns_.push_back(std::move(notice)); }

void Outbox::AddProgress(const broker::Lease& lease, std::string progress_json,
                         std::string log_line) {
  broker::ProgressUpdate& update = progress_[lease.id];
  update.lease = lease;
  if (!progress_json.empty()) update.progress_json = std::move(progress_json);
  if (log_line.empty()) return;
  update.log_lines.push_back(std::move(log_line));
  // A chatty handler between two round trips keeps only what Redis would keep anyway.
  if (update.log_lines.size() > static_cast<size_t>(limits_.max_log_lines)) {
    update.log_lines.erase(update.log_lines.begin());
  }
}

bool Outbox::empty() const {
  return completions_.empty() && failures_.empty() && postponements_.empty() && progress_.empty() &&
         overruns_.empty();
}

broker::FlushRequest Outbox::Take() {
  broker::FlushRequest request;
  request.lease = limits_.lease;
  request.policy.max_errors_kept = limits_.max_errors_kept;
  request.policy.max_log_lines = limits_.max_log_lines;
  if (!completions_.empty()) {
    request.policy.keep_completed = completions_.front().keep;
    while (!completions_.empty() && completions_.front().keep == request.policy.keep_completed) {
      request.completions.push_back(std::move(completions_.front().completion));
      completions_.pop_front();
    }
  }
  if (!failures_.empty()) {
    request.policy.keep_dead = failures_.front().keep;
    while (!failures_.empty() && failures_.front().keep == request.policy.keep_dead) {
      request.failures.push_back(std::move(failures_.front().failure));
      failures_.pop_front();
    }
  }
  request.postponements.assign(std::make_move_iterator(postponements_.begin()),
                               std::make_move_iterator(postponements_.end()));
  postponements_.clear();
  for (auto& [id, update] : progress_) request.progress.push_back(std::move(update));
  progress_.clear();
  while (!overruns_.empty() && request.overruns.size() < kMaxOverrunsPerFlush) {
    request.overruns.push_back(std::move(overruns_.front()));
    overruns_.pop_front();
  }
  return request;
}

void Outbox::Restore(broker::FlushRequest& request) {
  for (auto it = request.completions.rbegin(); it != request.completions.rend(); ++it) {
    completions_.push_front({std::move(*it), request.policy.keep_completed});
  }
  for (auto it = request.failures.rbegin(); it != request.failures.rend(); ++it) {
    failures_.push_front({std::move(*it), request.policy.keep_dead});
  }
  postponements_.insert(postponements_.begin(),
                        std::make_move_iterator(request.postponements.begin()),
                        std::make_move_iterator(request.postponements.end()));
  overruns_.insert(overruns_.begin(), std::make_move_iterator(request.overruns.begin()),
                   std::make_move_iterator(request.overruns.end()));
  for (auto& update : request.progress) {
    auto [it, fresh] = progress_.try_emplace(update.lease.id, std::move(update));
    if (fresh) continue;
    // A newer update came meanwhile: the older lines go first, the newer progress wins.
    broker::ProgressUpdate& newer = it->second;
    update.log_lines.insert(update.log_lines.end(), newer.log_lines.begin(), newer.log_lines.end());
    newer.log_lines = std::move(update.log_lines);
    if (newer.progress_json.empty()) newer.progress_json = std::move(update.progress_json);
  }
}

void Outbox::RestoreRefused(broker::FlushRequest& request, const broker::FlushResult& result) {
  broker::FlushRequest again;
  again.policy = request.policy;
  if (!result.overruns_error.ok()) again.overruns = std::move(request.overruns);
  if (!result.progress_error.ok()) again.progress = std::move(request.progress);
  if (!result.completions_error.ok()) again.completions = std::move(request.completions);
  if (!result.failures_error.ok()) again.failures = std::move(request.failures);
  if (!result.postponements_error.ok()) again.postponements = std::move(request.postponements);
  Restore(again);
}

}  // namespace taskq::worker
