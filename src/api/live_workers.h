// What the live workers (those heard from recently, Inspector::Workers) serve, per queue: how
// many serve it and which job types they have handlers for. A job whose type no live worker of
// its queue handles waits until one starts (workers without the handler hand it back).
#pragma once

#include <map>
#include <set>
#include <string>

#include "taskq/inspector.h"

namespace taskq::api {

struct QueueService {
  int workers = 0;
  std::set<std::string> job_types;
  int64_t handler_processes = 0;  // alive, over the workers that run it in process isolation
};

std::map<std::string, QueueService> ServiceByQueue(const Inspector::WorkerList& list);

// ,"live_handler":true|false for a job that waits to run (waiting, delayed, retrying, held);
// nothing for the others (active, finished), whose handler is no longer in question.
std::string LiveHandlerField(const Job& job, const QueueService& service);

}  // namespace taskq::api
