#include "api/live_workers.h"

namespace taskq::api {

std::map<std::string, QueueService> ServiceByQueue(const Inspector::WorkerList& list) {
  std::map<std::string, QueueService> out;
  for (const WorkerInfo& w : list.workers) {
    for (const WorkerQueueInfo& q : w.queues) {
      QueueService& service = out[q.queue];
      ++service.workers;
      service.handler_processes += q.processes;
      service.job_types.insert(w.job_types.begin(), w.job_types.end());
    }
  }
  return out;
}

std::string LiveHandlerField(const Job& job, const QueueService& service) {
  if (job.state != JobState::kWaiting && job.state != JobState::kDelayed &&
      job.state != JobState::kRetrying && job.state != JobState::kHeld) {
    return "";
  }
  return service.job_types.contains(job.type) ? ",\"live_handler\":true"
                                              : ",\"live_handler\":false";
}

}  // namespace taskq::api
