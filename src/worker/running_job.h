// One claimed attempt as its handler sees it (a JobContext) and as its processor tracks it.
// Private to src/worker/.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "common/job_codec.h"
#include "taskq/handler.h"

namespace taskq::worker {

class Processor;

// One claimed attempt. Its identity is immutable; the flags below are read by the handler thread
// (stop_) and otherwise guarded by the processor's mu_.
class RunningJob final : public JobContext {
 public:
  RunningJob(Processor& owner, const std::string& queue, broker::ClaimedJob claimed,
             DecodedBody body, std::chrono::steady_clock::time_point deadline)
      : owner_(owner),
        queue_(queue),
        id_(std::move(claimed.id)),
        type_(std::move(body.type)),
        data_(std::move(body.data_json)),
        options_(std::move(body.options)),
        attempt_(claimed.attempt),
        token_(claimed.token),
        deadline_(deadline),
        started_(std::chrono::steady_clock::now()) {}

  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  const std::string& queue() const override { return queue_; }
  const std::string& data_json() const override { return data_; }
  int32_t attempt() const override { return attempt_; }
  int32_t max_attempts() const override { return options_.max_attempts; }
  const std::string& trace_parent() const override { return options_.trace_parent; }
  const std::vector<FlowChild>& children() const override { return children_; }
  void SetProgress(std::string progress_json) override;  // Processor::AddProgress
  void Log(std::string line) override;                   // Processor::AddProgress
  bool stop_requested() const override { return stop_.load(std::memory_order_relaxed); }
  std::chrono::steady_clock::time_point deadline() const override { return deadline_; }

  broker::Lease lease() const { return {id_, token_}; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  const EnqueueOptions& options() const { return options_; }
  void RequestStop() { stop_.store(true, std::memory_order_relaxed); }
  // A flow parent: its handler reads its children's outcomes (children()), which the loop reads
  // from Redis before handing it over.
  bool reads_children() const { return options_.flow && options_.flow->has_children; }
  // Loop thread, before the job is handed to a handler (which then only reads them).
  void SetChildren(std::vector<FlowChild> children) { children_ = std::move(children); }

  // Guarded by the processor's mu_. (Whether it was abandoned is whether it is in abandoned_.)
  bool cancel_requested = false;  // someone cancelled it: a failure is final
  // Its attempt passed its timeout while the handler runs. A handler thread cannot be killed, so
  // it was asked to stop, and its lease is still renewed: no other attempt may start while this
  // one runs. When the handler returns, the attempt ends as a timeout failure (retried as usual;
  // a late result is discarded).
  bool overrunning = false;
  // When its handler must be asked to stop unless the lease is renewed first: a quarter of the
  // lease before the lease ends, counted from the sending of the round trip that claimed or last
  // renewed it. Redis counts the lease from when it ran that round trip, which is later; the
  // quarter gives the handler time to see the request (a transfer checks about once a second)
  // before Redis may hand the job to another worker. Renewals every lease/3 keep it ahead.
  std::chrono::steady_clock::time_point stop_by;

 private:
  Processor& owner_;
  const std::string& queue_;
  const std::string id_;
  const std::string type_;
  const std::string data_;
  const EnqueueOptions options_;
  const int32_t attempt_;
  const int64_t token_;
  const std::chrono::steady_clock::time_point deadline_;
  const std::chrono::steady_clock::time_point started_;
  std::vector<FlowChild> children_;  // set before the hand-over, then only read
  std::atomic<bool> stop_{false};
};

}  // namespace taskq::worker
