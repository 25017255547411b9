// Group commit for single enqueues: requests that arrive while a batch is in Redis wait and go
// together in the next one, so N concurrent POST /api/jobs cost one round trip instead of N
// (docs/architecture.md). Each request still gets its own result: a batch goes as one bulk per
// queue (Client::EnqueueEach), and when a queue's bulk is refused (one job's input, or the
// queue's maximum length), each of its jobs is tried alone. On a sharded queue a shard whose
// master cannot be reached fails only the requests placed on it.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "taskq/client.h"

namespace taskq::api {

class EnqueueBatcher {
 public:
  using Done = std::function<void(Result<EnqueueResult>)>;

  static Result<std::unique_ptr<EnqueueBatcher>> Open(const ClientOptions& options,
                                                      size_t max_batch = 512);
  ~EnqueueBatcher();  // enqueues what was submitted, then joins
  EnqueueBatcher(const EnqueueBatcher&) = delete;
  EnqueueBatcher& operator=(const EnqueueBatcher&) = delete;

  // `done` runs on the batcher's thread.
  void Submit(EnqueueRequest request, Done done);

 private:
  EnqueueBatcher(std::unique_ptr<Client> client, size_t max_batch);
  void Run();
  void Process(std::vector<EnqueueRequest>& requests, std::vector<Done>& dones);
  // Requests of one queue.
  void ProcessQueue(std::vector<EnqueueRequest>& requests, std::vector<Done>& dones);

  const size_t max_batch_;
  std::unique_ptr<Client> client_;  // only on thread_
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<EnqueueRequest> requests_;  // guarded by mu_
  std::vector<Done> dones_;               // guarded by mu_
  bool stopping_ = false;                 // guarded by mu_
  std::thread thread_;
};

}  // namespace taskq::api
