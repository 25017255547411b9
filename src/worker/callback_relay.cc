#include "worker/callback_relay.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>
#include <set>

#include "broker/shard_tags.h"
#include "common/job_codec.h"
#include "common/json_text.h"

namespace taskq::worker {
namespace {

namespace json = boost::json;

// A result past this size is left out of the callback (the receiver can read the job).
constexpr size_t kMaxCallbackResultBytes = 64 << 10;
constexpr int32_t kCallbackAttempts = 10;

// `text` as a JSON value when it is one, else as a JSON string.
void AppendJsonValue(std::string* out, const std::string& text) {
  boost::system::error_code ec;
  json::parse(text, ec);
  if (ec) {
    AppendJsonString(out, text);
  } else {
    *out += text;
  }
}

}  // namespace

Result<broker::NewJob> CallbackJobFor(const std::string& queue, const std::string& callback_queue,
                                      const broker::OutboxEntry& entry) {
  const std::string* id = entry.Field("id");
  const std::string* outcome = entry.Field("o");
  const std::string* finished = entry.Field("t");
  const std::string* body = entry.Field("b");
  const std::string* detail = entry.Field("r");
  int64_t finished_ms = 0;
  if (id == nullptr || id->empty() || outcome == nullptr ||
      (*outcome != "completed" && *outcome != "dead") || finished == nullptr || body == nullptr ||
      detail == nullptr ||
      std::from_chars(finished->data(), finished->data() + finished->size(), finished_ms).ec !=
          std::errc()) {
    return InvalidArgument("outbox", "malformed callback entry " + entry.id);
  }
  // `queue` may be a shard's tag: the callback names the queue, and its id the shard, whose
  // outbox ids are its own ('#' is no id character).
  const std::string_view logical = broker::QueueOfTag(queue);
  auto decoded = DecodeJobBody(*body, logical);
  if (!decoded.ok()) return decoded.status();
  if (decoded->options.callback_url.empty()) {
    return InvalidArgument("outbox", "entry " + entry.id + ": the job names no callback URL");
  }
  std::string data = "{\"url\":";
  AppendJsonString(&data, decoded->options.callback_url);
  data += ",\"body\":{\"type\":\"job.";
  data += *outcome;
  data += "\",\"job\":{\"id\":";
  AppendJsonString(&data, *id);
  data += ",\"queue\":";
  AppendJsonString(&data, logical);
  data += ",\"type\":";
  AppendJsonString(&data, decoded->type);
  data += ",\"state\":\"" + *outcome + "\",\"finished_ms\":" + std::to_string(finished_ms);
  if (*outcome == "completed") {
    if (detail->size() > kMaxCallbackResultBytes) {
      data += ",\"result_truncated\":true";
    } else {
      data += ",\"result\":";
      AppendJsonValue(&data, *detail);
    }
  } else {
    data += ",\"error\":";
    AppendJsonValue(&data, *detail);
  }
  data += "}}}";
  EnqueueOptions options;
  options.queue = callback_queue;
  options.max_attempts = kCallbackAttempts;
  options.trace_parent = decoded->options.trace_parent;
  auto encoded = EncodeJobBody("webhook", data, options, JobLimits{});
  if (!encoded.ok()) return encoded.status();
  broker::NewJob job;
  std::string source = queue;
  std::replace(source.begin(), source.end(), '#', ':');
  job.id = "cb:" + source + ":" + entry.id;
  job.body = std::move(*encoded);
  return job;
}

namespace {

// Applies a run of flow entries of one class for one queue and notes them done; a run refused as
// malformed is applied entry by entry, and the malformed ones are dropped (they can never
// apply). On another failure nothing is noted: the run is applied again later.
Status ApplyFlowRun(broker::Broker& broker, const std::string& source,
                    std::span<const broker::OutboxEntry> run, std::vector<std::string>& done) {
  const std::string target = *run.front().Field("q");
  auto applied = broker.ApplyFlowEntries(target, source, run);
  if (!applied.ok() && applied.status().code() == StatusCode::kInvalidArgument) {
    for (const broker::OutboxEntry& entry : run) {
      auto one = broker.ApplyFlowEntries(target, source, std::span(&entry, 1));
      if (!one.ok() && one.status().code() != StatusCode::kInvalidArgument) return one.status();
      if (!one.ok()) {
        spdlog::error("queue {}: flow entry {} dropped: {}", source, entry.id,
                      one.status().ToString());
      }
    }
  } else if (!applied.ok()) {
    return applied.status();
  }
  for (const broker::OutboxEntry& entry : run) done.push_back(entry.id);
  return Status::Ok();
}

// One pass over `queue`'s outbox. A target that fails (Redis unreachable for its slot) keeps
// its entries, and the later ones for it in the same take, for the next pass: entries for other
// targets go on, since order matters only per target. The first such failure is returned once
// the rest was applied and deleted.
Result<int64_t> RelayOne(broker::Broker& broker, const std::string& queue,
                         const CallbackRelayOptions& options, std::set<std::string>* homes) {
  int64_t applied = 0;
  bool registered = false;  // the callback queue, in the registry once per call
  Status first_failure = Status::Ok();
  while (true) {
    auto entries = broker.TakeOutbox(queue, options.token, options.lease, options.max_entries);
    if (!entries.ok()) return entries.status();
    if (entries->empty()) break;
    std::vector<broker::NewJob> jobs;
    std::vector<std::string> done, callbacks;
    std::set<std::string> failed;  // targets whose entries wait for the next pass
    // Flow entries keep their order (a job's reports count in the order it wrote them): a run of
    // consecutive entries of one class for one queue is one script call.
    std::vector<broker::OutboxEntry> run;
    auto flush_run = [&] {
      if (run.empty()) return;
      const std::string target = *run.front().Field("q");
      Status s = ApplyFlowRun(broker, queue, run, done);
      if (!s.ok()) {
        spdlog::warn("queue {}: flow entries for {} wait: {}", queue, target, s.ToString());
        failed.insert(target);
        if (first_failure.ok()) first_failure = s;
      } else {
        applied += static_cast<int64_t>(run.size());
      }
      run.clear();
    };
    for (const broker::OutboxEntry& entry : *entries) {
      const std::string* kind = entry.Field("k");
      const broker::FlowEntryClass flow = broker::FlowEntryClassOf(entry);
      if (flow != broker::FlowEntryClass::kNone) {
        const std::string* target = entry.Field("q");
        if (target == nullptr || !ValidateName("q", *target).ok()) {
          spdlog::error("queue {}: flow entry {} names no queue; dropped", queue, entry.id);
          done.push_back(entry.id);
          continue;
        }
        if (!run.empty() &&
            (broker::FlowEntryClassOf(run.front()) != flow || *run.front().Field("q") != *target)) {
          flush_run();
        }
        // A flow's queues are in the registry since its submission (Client::SubmitFlow).
        if (failed.contains(*target)) continue;
        if (flow == broker::FlowEntryClass::kReport && homes != nullptr) homes->insert(*target);
        run.push_back(entry);
        continue;
      }
      if (kind == nullptr || *kind != "cb") {
        spdlog::warn("queue {}: outbox entry {} of an unknown kind is left for a newer relay",
                     queue, entry.id);
        continue;
      }
      auto job = CallbackJobFor(queue, options.callback_queue, entry);
      if (job.ok()) {
        jobs.push_back(std::move(*job));
        callbacks.push_back(entry.id);
      } else {
        spdlog::error("queue {}: outbox entry dropped: {}", queue, job.status().ToString());
        done.push_back(entry.id);
      }
    }
    flush_run();
    if (!jobs.empty()) {
      Status s = registered ? Status::Ok() : broker.RegisterQueue(options.callback_queue);
      registered = s.ok();
      if (s.ok()) {
        auto created = broker.Enqueue(options.callback_queue, jobs);
        if (!created.ok()) s = created.status();
      }
      if (s.ok()) {
        done.insert(done.end(), callbacks.begin(), callbacks.end());
        applied += static_cast<int64_t>(jobs.size());
      } else {
        spdlog::warn("queue {}: callbacks wait: {}", queue, s.ToString());
        if (first_failure.ok()) first_failure = s;
      }
    }
    auto acked = broker.AckOutbox(queue, options.token, done);
    if (!acked.ok()) return acked.status();
    // Entries left (unknown kinds, or waiting for a target): the next take would return them.
    if (done.size() < entries->size() ||
        entries->size() < static_cast<size_t>(options.max_entries)) {
      break;
    }
  }
  if (!first_failure.ok()) return first_failure;
  return applied;
}

}  // namespace

Result<int64_t> RelayOutbox(broker::Broker& broker, const std::string& queue,
                            const CallbackRelayOptions& options) {
  std::set<std::string> homes;
  auto applied = RelayOne(broker, queue, options, &homes);
  if (!applied.ok()) return applied;
  // Reports counted in a flow's queue may have released a parent that runs elsewhere: that
  // queue's dispatches go out now rather than at its next pass.
  homes.erase(queue);
  for (const std::string& home : homes) {
    auto more = RelayOne(broker, home, options, nullptr);
    if (!more.ok()) {
      spdlog::warn("relay, queue {}: {}", home, more.status().ToString());
    } else {
      *applied += *more;
    }
  }
  return applied;
}

CallbackRelay::CallbackRelay(CallbackRelayOptions options, std::unique_ptr<broker::Broker> broker,
                             std::vector<std::string> queues)
    : options_(std::move(options)), broker_(std::move(broker)), queues_(std::move(queues)) {}

CallbackRelay::~CallbackRelay() { Stop(); }

void CallbackRelay::RunOnce(bool all) {
  std::vector<std::string> queues = queues_;
  if (all) {
    auto registered = broker_->Queues();
    if (registered.ok()) {
      for (std::string& q : *registered) {
        if (std::find(queues.begin(), queues.end(), q) == queues.end()) {
          queues.push_back(std::move(q));
        }
      }
    } else {
      spdlog::warn("callback relay: {}", registered.status().ToString());
    }
  }
  for (const std::string& queue : queues) {
    for (const std::string& tag : ShardTagsOf(queue)) {
      auto applied = RelayOutbox(*broker_, tag, options_);
      if (!applied.ok()) {
        spdlog::warn("callback relay, queue {}: {}", tag, applied.status().ToString());
      }
    }
  }
}

const std::vector<std::string>& CallbackRelay::ShardTagsOf(const std::string& queue) {
  const auto now = std::chrono::steady_clock::now();
  auto it = shard_tags_.find(queue);
  if (it != shard_tags_.end() && now < it->second.first + kLayoutKept) return it->second.second;
  auto layout = broker_->Layout(queue);
  if (it == shard_tags_.end()) {
    it = shard_tags_.emplace(queue, std::make_pair(now, std::vector<std::string>{queue})).first;
  }
  if (layout.ok()) {
    it->second = {now, std::move(layout->tags)};
  } else {
    spdlog::warn("callback relay, queue {}: {}", queue, layout.status().ToString());
  }
  return it->second.second;
}

void CallbackRelay::Start() {
  thread_ = std::thread([this] {
    const auto all_every = options_.interval * std::max(options_.all_queues_every, 1);
    auto next_all = std::chrono::steady_clock::now() + all_every;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, options_.interval, [this] { return stopping_ || poked_; });
      poked_ = false;
      lock.unlock();
      const auto now = std::chrono::steady_clock::now();
      const bool all = now >= next_all;
      if (all) next_all = now + all_every;
      RunOnce(all);
      lock.lock();
    }
  });
}

void CallbackRelay::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  RunOnce(false);  // what the last jobs finished
}

void CallbackRelay::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

}  // namespace taskq::worker
