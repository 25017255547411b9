#include "api/enqueue_batcher.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

namespace taskq::api {

Result<std::unique_ptr<EnqueueBatcher>> EnqueueBatcher::Open(const ClientOptions& options,
                                                             size_t max_batch) {
  auto client = Client::Open(options);
  if (!client.ok()) return client.status();
  return std::unique_ptr<EnqueueBatcher>(new EnqueueBatcher(std::move(*client), max_batch));
}

EnqueueBatcher::EnqueueBatcher(std::unique_ptr<Client> client, size_t max_batch)
    : max_batch_(std::max<size_t>(1, max_batch)), client_(std::move(client)) {
  thread_ = std::thread([this] { Run(); });
}

EnqueueBatcher::~EnqueueBatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void EnqueueBatcher::Submit(EnqueueRequest request, Done done) {
  bool first;
  {
    std::lock_guard lock(mu_);
    first = requests_.empty();
    requests_.push_back(std::move(request));
    dones_.push_back(std::move(done));
  }
  if (first) cv_.notify_one();
}

void EnqueueBatcher::Run() {
  std::vector<EnqueueRequest> requests;
  std::vector<Done> dones;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !requests_.empty(); });
    if (requests_.empty()) return;  // stopping, and nothing left
    if (requests_.size() <= max_batch_) {
      requests.swap(requests_);
      dones.swap(dones_);
    } else {
      auto take = [this](auto& from, auto& to) {
        to.assign(std::make_move_iterator(from.begin()),
                  std::make_move_iterator(from.begin() + max_batch_));
        from.erase(from.begin(), from.begin() + max_batch_);
      };
      take(requests_, requests);
      take(dones_, dones);
    }
    lock.unlock();
    Process(requests, dones);
    requests.clear();
    dones.clear();
    lock.lock();
  }
}

namespace {

const std::string& QueueOf(const EnqueueRequest& request) {
  return request.options.queue.empty() ? request.type : request.options.queue;
}

}  // namespace

void EnqueueBatcher::Process(std::vector<EnqueueRequest>& requests, std::vector<Done>& dones) {
  // One bulk per queue: each is one atomic step, so a bulk that is refused (one job's input, a
  // full queue) wrote nothing, and its jobs can each be tried alone.
  const std::string& first = QueueOf(requests.front());
  if (std::all_of(requests.begin(), requests.end(),
                  [&](const EnqueueRequest& r) { return QueueOf(r) == first; })) {
    ProcessQueue(requests, dones);
    return;
  }
  std::vector<std::string> order;
  std::unordered_map<std::string, std::pair<std::vector<EnqueueRequest>, std::vector<Done>>> parts;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto [it, added] = parts.try_emplace(QueueOf(requests[i]));
    if (added) order.push_back(it->first);
    it->second.first.push_back(std::move(requests[i]));
    it->second.second.push_back(std::move(dones[i]));
  }
  for (const std::string& queue : order) {
    auto& [part_requests, part_dones] = parts[queue];
    ProcessQueue(part_requests, part_dones);
  }
}

void EnqueueBatcher::ProcessQueue(std::vector<EnqueueRequest>& requests, std::vector<Done>& dones) {
  auto results = client_->EnqueueEach(requests);
  if (!results.ok()) {
    // One job's bad input, or the batch's total size, refuses the whole batch before anything is
    // written: give every job its own answer.
    const StatusCode code = results.status().code();
    if (requests.size() > 1 &&
        (code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted)) {
      for (size_t i = 0; i < dones.size(); ++i) dones[i](client_->Enqueue(requests[i]));
      return;
    }
    for (Done& done : dones) done(results.status());
    return;
  }
  // A part without room for all of its jobs (the queue's, or on a sharded queue a shard's,
  // maximum length) wrote none of them: each is tried alone, so the room there is goes to the
  // jobs that fit. Other failures (a master that cannot be reached) are each job's answer; the
  // other parts' jobs are enqueued.
  for (size_t i = 0; i < dones.size(); ++i) {
    Result<EnqueueResult>& result = (*results)[i];
    const bool full = !result.ok() && result.status().code() == StatusCode::kQueueFull;
    dones[i](full && requests.size() > 1 ? client_->Enqueue(requests[i]) : std::move(result));
  }
}

}  // namespace taskq::api
