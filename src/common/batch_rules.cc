// The rules of a batch request and of an addition (taskq/batch.h), checked whole before anything
// is written.
#include <string>

#include "common/field_errors.h"
#include "taskq/batch.h"
#include "taskq/flow.h"

namespace taskq {
namespace {

const std::string& QueueOf(const EnqueueRequest& job) {
  return job.options.queue.empty() ? job.type : job.options.queue;
}

// The field a job's queue comes from: its queue, else its type.
std::string QueueField(const std::string& name, const EnqueueRequest& job) {
  return name + (job.options.queue.empty() ? ".type" : ".queue");
}

// The rules every job of a batch meets, and the queue they share. `queue` is the batch's queue
// (an addition), else empty and then taken from the first job.
class BatchJobRules {
 public:
  BatchJobRules(std::string_view queue, FieldErrors& errors) : queue_(queue), errors_(errors) {}

  void Check(const std::string& name, const EnqueueRequest& job) {
    data_bytes_ += job.data_json.size();
    if (!job.options.job_id.empty()) {
      errors_.Add(InvalidArgument(name + ".job_id",
                                  "is not allowed in a batch: its jobs are named "
                                  "<batch key>.<place>"));
    }
    if (job.options.unique) {
      errors_.Add(InvalidArgument(name + ".unique",
                                  "is not allowed in a batch: a job replaced by another would "
                                  "never be counted"));
    }
    if (queue_.empty()) {
      queue_ = QueueOf(job);
      first_ = name;
    } else if (QueueOf(job) != queue_) {
      errors_.Add(InvalidArgument(QueueField(name, job),
                                  "every job of a batch must be in one queue: '" + queue_ + "'" +
                                      (first_.empty() ? "" : " (from " + first_ + ")") + ", not '" +
                                      QueueOf(job) + "'"));
    }
  }

  size_t data_bytes() const { return data_bytes_; }

 private:
  std::string queue_;
  std::string first_;  // the job the queue came from; empty: given
  FieldErrors& errors_;
  size_t data_bytes_ = 0;
};

// The size of a list of jobs against the limits; the list as a whole is named "jobs".
Status CheckSize(size_t jobs, size_t data_bytes, const BatchLimits& limits) {
  if (jobs > limits.max_jobs) {
    return InvalidArgument("jobs", "holds " + std::to_string(jobs) +
                                       " jobs; a batch request holds at most " +
                                       std::to_string(limits.max_jobs));
  }
  if (data_bytes > limits.max_data_bytes) {
    return InvalidArgument("jobs", "hold " + std::to_string(data_bytes) +
                                       " bytes of data; a batch request holds at most " +
                                       std::to_string(limits.max_data_bytes));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateBatch(const BatchRequest& batch, const BatchLimits& limits) {
  FieldErrors errors;
  if (!batch.batch_id.empty() && !IsFlowName(batch.batch_id, kMaxBatchIdBytes)) {
    errors.Add(InvalidArgument("batch_id", "must be 1 to 64 of A-Z, a-z, 0-9, _ and -"));
  }
  if (batch.jobs.empty() && !batch.open) {
    errors.Add(InvalidArgument("jobs",
                               "must hold at least one job (only an open batch, which "
                               "gets its jobs by additions, may start with none)"));
  }
  if (batch.jobs.size() > limits.max_total) {
    errors.Add(InvalidArgument("jobs", "holds " + std::to_string(batch.jobs.size()) +
                                           " jobs; a batch holds at most " +
                                           std::to_string(limits.max_total)));
  }
  if (batch.retention.count() < 0 || batch.retention > std::chrono::hours(24 * 365 * 10)) {
    errors.Add(InvalidArgument("retention_ms", "must be from 0 to 10 years"));
  }
  BatchJobRules rules("", errors);
  if (batch.jobs.size() <= limits.max_jobs) {  // past the limit, only the limit is named
    for (size_t i = 0; i < batch.jobs.size(); ++i) {
      rules.Check("jobs[" + std::to_string(i) + "]", batch.jobs[i]);
    }
  }
  if (batch.on_complete) rules.Check("on_complete", *batch.on_complete);
  if (batch.on_success) rules.Check("on_success", *batch.on_success);
  errors.Add(CheckSize(batch.jobs.size(), rules.data_bytes(), limits));
  return std::move(errors).ToStatus();
}

Status ValidateBatchAddition(const BatchAddition& addition, std::string_view queue,
                             const BatchLimits& limits) {
  FieldErrors errors;
  if (!addition.addition_id.empty() && !IsFlowName(addition.addition_id, kMaxBatchAdditionBytes)) {
    errors.Add(InvalidArgument("addition_id", "must be 1 to 32 of A-Z, a-z, 0-9, _ and -"));
  }
  if (addition.jobs.empty()) errors.Add(InvalidArgument("jobs", "must hold at least one job"));
  BatchJobRules rules(queue, errors);
  if (addition.jobs.size() <= limits.max_jobs) {
    for (size_t i = 0; i < addition.jobs.size(); ++i) {
      rules.Check("jobs[" + std::to_string(i) + "]", addition.jobs[i]);
    }
  }
  errors.Add(CheckSize(addition.jobs.size(), rules.data_bytes(), limits));
  return std::move(errors).ToStatus();
}

}  // namespace taskq
