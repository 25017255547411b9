#include "dashboard/event_hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "common/json_text.h"

namespace taskq::dashboard {

EventHub::EventHub(EventHubOptions options, SnapshotSource snapshot)
    : options_(std::move(options)), snapshot_(std::move(snapshot)), thread_([this] { Run(); }) {}

EventHub::~EventHub() { Stop(); }

std::string EventHub::FormatEvent(std::string_view name, std::string_view data) {
  // The data is one line of JSON (its strings escape newlines), so one data: line carries it.
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
  return out;
}

std::string EventHub::JobEventJson(const JobEvent& event) {
  std::string out = "{\"queue\":" + JsonString(event.queue) +
                    ",\"event\":" + JsonString(event.kind) + ",\"ids\":[";
  for (size_t i = 0; i < event.job_ids.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(&out, event.job_ids[i]);
  }
  out += "],\"count\":" + std::to_string(event.count) + "}";
  return out;
}

bool EventHub::Add(std::shared_ptr<api::ResponseStream> stream) {
  {
    std::lock_guard lock(mu_);
    DropClosed();
    if (stopping_ || streams_.size() >= options_.max_streams) {
      stream->Close();
      return false;
    }
    streams_.push_back(stream);
    wake_.notify_all();
  }
  RequestSnapshot(std::move(stream));
  return true;
}

bool EventHub::Full() {
  std::lock_guard lock(mu_);
  DropClosed();
  return streams_.size() >= options_.max_streams;
}

// Streams closed since the last broadcast (tabs closed while nothing happened, e.g. with Redis
// down) would otherwise hold their places until the next one.
void EventHub::DropClosed() {
  std::erase_if(streams_, [](const auto& s) { return !s->open(); });
}

void EventHub::Stop() {
  std::vector<std::shared_ptr<api::ResponseStream>> streams;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    streams.swap(streams_);
    wake_.notify_all();
  }
  for (auto& s : streams) s->Close();
  if (thread_.joinable()) thread_.join();
}

void EventHub::Broadcast(const std::string& text) {
  std::lock_guard lock(mu_);
  // A stream whose client is gone (or fell too far behind) refuses the write: drop it.
  std::erase_if(streams_, [&text](const auto& s) { return !s->Write(text); });
}

// `only`: send to that stream alone (a new client); null: to all.
void EventHub::RequestSnapshot(std::shared_ptr<api::ResponseStream> only) {
  snapshot_([this, only = std::move(only)](std::string body) {
    const std::string text = FormatEvent("queues", body);
    if (only) {
      only->Write(text);
    } else {
      Broadcast(text);
    }
  });
}

void EventHub::Run() {
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<Inspector> inspector;
  std::vector<EventCursor> cursors;
  Clock::time_point listed{}, snapshot_at = Clock::now();
  bool changed = false, failing = false;
  bool first_listing =
      true;  // queues known then start from now; queues found later from their start
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (streams_.empty()) {  // nobody is watching: no Redis traffic at all
      inspector.reset();
      cursors.clear();  // a new watcher starts from now
      first_listing = true;
      wake_.wait(lock, [this] { return stopping_ || !streams_.empty(); });
      continue;
    }
    lock.unlock();
    Status status = Status::Ok();
    if (!inspector) {
      auto opened = Inspector::Open(options_.redis);
      if (opened.ok()) inspector = std::move(*opened);
      status = opened.status();
    }
    const Clock::time_point now = Clock::now();
    if (inspector && now - listed >= options_.wait) {
      auto queues = inspector->Queues();
      status = queues.status();
      if (queues.ok()) {
        listed = now;
        std::vector<EventCursor> next;
        for (const std::string& q : *queues) {
          auto it = std::find_if(cursors.begin(), cursors.end(),
                                 [&q](const EventCursor& c) { return c.queue == q; });
          if (it != cursors.end()) {
            next.push_back(*it);
          } else {  // a new queue's stream is young: its events so far are news too
            next.push_back(EventCursor{q, first_listing ? "" : "0-0"});
            changed = changed || !first_listing;
          }
        }
        cursors = std::move(next);
        first_listing = false;
      }
    }
    if (inspector && status.ok() && !cursors.empty()) {
      auto events = inspector->WaitEvents(cursors, options_.wait);
      status = events.status();
      if (events.ok()) {
        for (const JobEvent& e : *events) Broadcast(FormatEvent("job", JobEventJson(e)));
        changed = changed || !events->empty();
      }
    }
    if (!status.ok()) {
      if (!failing) spdlog::warn("dashboard events: {} (retrying every second)", status.ToString());
      failing = true;
    } else {
      failing = false;
    }
    const Clock::time_point after = Clock::now();
    const auto since = after - snapshot_at;
    if ((changed && since >= options_.snapshot_min) || since >= options_.snapshot_max) {
      RequestSnapshot(nullptr);
      snapshot_at = after;
      changed = false;
    }
    lock.lock();
    // Without a blocking read this turn (no queue yet, or Redis failing), pause here instead.
    if (!status.ok() || cursors.empty()) {
      wake_.wait_for(lock, options_.wait, [this] { return stopping_; });
    }
  }
}

}  // namespace taskq::dashboard
