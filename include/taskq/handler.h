// What a job handler sees and returns. Handlers run on the worker's handler threads, never on its
// Redis loop, so they may block (SMTP, HTTP, image work).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "taskq/batch_view.h"
#include "taskq/flow_view.h"

namespace taskq {

class JobContext {
 public:
  virtual ~JobContext() = default;

  virtual const std::string& id() const = 0;
  virtual const std::string& type() const = 0;
  virtual const std::string& queue() const = 0;
  // The job's data: a JSON object, as text (parse it with the JSON library of your choice).
  virtual const std::string& data_json() const = 0;
  virtual int32_t attempt() const = 0;  // 1 for the first attempt
  virtual int32_t max_attempts() const = 0;
  // The W3C traceparent the job was enqueued with (EnqueueOptions::trace_parent); empty: none.
  // A handler that calls out passes it on (the webhook handler sends it as `traceparent`).
  virtual const std::string& trace_parent() const {
    static const std::string none;
    return none;
  }
  // A flow's parent (docs/workflows.md): its children that completed, with their results, and
  // those whose policy is "continue" that died (any policy but "ignore" for a parent run with an
  // override), with their last errors; by ref. Read once, before the handler runs. Empty for
  // every other job.
  virtual const std::vector<FlowChild>& children() const {
    static const std::vector<FlowChild> none;
    return none;
  }
  // A step of a chain (docs/workflows.md): the result of the step before it, its one child, as
  // JSON ("null" when that step returned none). nullopt for the first step and for any job whose
  // children() is not exactly one completed child: a job not in a flow, a step whose child died
  // (a parent retried with an override), a parent of several children.
  std::optional<std::string> previous_result() const;
  // A batch's callback (docs/workflows.md, "Batches"): its batch's counts when the batch
  // released it, read with children() (a callback's one child, ref "*", holds them). nullopt
  // for every other job.
  std::optional<BatchCounts> batch() const;

  // Stored on the job while this worker holds its lease; any JSON value, e.g. "42" or
  // {"done":3,"total":10}. Written to Redis in the worker's next round trip.
  virtual void SetProgress(std::string progress_json) = 0;
  // Appends one line to the job's log (the newest lines are kept, up to the worker's cap).
  virtual void Log(std::string line) = 0;

  // True once the handler should stop: the attempt timed out, someone cancelled the job, the
  // worker lost the lease, or the worker is shutting down past its grace period. A result given
  // after that is discarded. Long handlers should check it between steps.
  virtual bool stop_requested() const = 0;
  // When the attempt times out.
  virtual std::chrono::steady_clock::time_point deadline() const = 0;
};

struct HandlerResult {
  enum class Kind {
    kSuccess,  // done; result_json is stored on the job
    kRetry,    // transient failure: retried with backoff while attempts remain, then dead
    kFail,     // permanent failure: dead at once, no retry
    // Not a failure: the handler was told to come back later (e.g. HTTP 429). The job waits
    // (state delayed) for retry_after and runs again without using up an attempt.
    kRateLimited,
  };
  Kind kind = Kind::kSuccess;
  std::string result_json = "null";
  std::string message;  // the error, for kRetry and kFail; logged on the job for kRateLimited
  // kRetry: the next attempt starts no earlier than this from now, instead of the job's backoff
  // (e.g. an HTTP Retry-After). Negative: the backoff decides. kRateLimited: when to run again.
  // Capped at 30 days.
  std::chrono::milliseconds retry_after{-1};

  static HandlerResult Success(std::string result_json = "null") {
    return {Kind::kSuccess, std::move(result_json), {}};
  }
  static HandlerResult Retry(std::string message) {
    return {Kind::kRetry, "null", std::move(message)};
  }
  // A transient failure whose cause said when to come back; still counts as an attempt.
  static HandlerResult RetryAfter(std::string message, std::chrono::milliseconds after) {
    return {Kind::kRetry, "null", std::move(message),
            std::max(after, std::chrono::milliseconds(0))};
  }
  // Rate limited: run again after `after`. The attempt is not counted (attempt() repeats), no
  // error is recorded and the job is not failed, however often it happens; `message` goes to
  // the job's log. A job cancelled meanwhile is not run again.
  static HandlerResult RateLimited(std::chrono::milliseconds after, std::string message = {}) {
    return {Kind::kRateLimited, "null", std::move(message),
            std::max(after, std::chrono::milliseconds(0))};
  }
  static HandlerResult Fail(std::string message) {
    return {Kind::kFail, "null", std::move(message)};
  }
};

// A handler may also throw: an exception counts as kRetry with its what() as the message.
using Handler = std::function<HandlerResult(JobContext&)>;

struct HandlerOptions {
  // Run on the queue's loop thread instead of a handler thread. Only for handlers that never block
  // and return within microseconds (pure computation, counters): it saves the hand-off to another
  // thread, but while it runs the queue sends and receives nothing, and its timeout cannot
  // interrupt it.
  bool run_inline = false;
  // The queues jobs of this type may run from; empty: any queue. A job of this type claimed from
  // another queue goes dead without running (someone put it where its type was not meant to run,
  // with that queue's concurrency, limits and workers).
  std::vector<std::string> queues;
};

}  // namespace taskq
