// Fans live updates out to the dashboard's open event streams (Server-Sent Events): every job
// event recorded in Redis (taskq/job_event.h) as `event: job`, and a snapshot of every queue
// (the body of GET /api/queues) as `event: queues`, at most once per snapshot_min while jobs
// change and at least once per snapshot_max. One thread and one Redis connection serve every
// client, and they only run while a client is connected.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/http_message.h"
#include "taskq/inspector.h"

namespace taskq::dashboard {

struct EventHubOptions {
  InspectorOptions redis;
  std::chrono::milliseconds snapshot_min{1000};
  std::chrono::milliseconds snapshot_max{5000};
  std::chrono::milliseconds wait{1000};  // longest blocking read; also how often queues are listed
  size_t max_streams = 100;
};

class EventHub {
 public:
  // Produces the snapshot's JSON asynchronously: calls `deliver` with it (or not at all when it
  // cannot be made, e.g. Redis is down). May call from any thread.
  using SnapshotSource = std::function<void(std::function<void(std::string)> deliver)>;

  EventHub(EventHubOptions options, SnapshotSource snapshot);
  ~EventHub();  // stops
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Serves a new client: it gets a snapshot at once, then the live events. False when
  // max_streams are open already or the hub stopped (the stream is closed then).
  bool Add(std::shared_ptr<api::ResponseStream> stream);
  bool Full();
  // Closes every stream and joins the thread.
  void Stop();

  // The text of one Server-Sent Event.
  static std::string FormatEvent(std::string_view name, std::string_view data);
  // The JSON of a job event: {"queue","event","ids","count"}.
  static std::string JobEventJson(const JobEvent& event);

 private:
  void Run();
  void Broadcast(const std::string& text);
  void DropClosed();  // with mu_ held
  void RequestSnapshot(std::shared_ptr<api::ResponseStream> only);

  const EventHubOptions options_;
  const SnapshotSource snapshot_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<api::ResponseStream>> streams_;  // guarded by mu_
  bool stopping_ = false;                                      // guarded by mu_
  std::thread thread_;  // last: it runs Run(), which uses the members above
};

}  // namespace taskq::dashboard
