// Wires a worker process: one processor (queue loop) per queue, a shared handler thread pool and
// the wake listener.
#include "taskq/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "broker/broker.h"
#include "common/child_command.h"
#include "common/job_codec.h"
#include "common/sanitizers.h"
#include "common/shard_placement.h"
#include "common/text_list.h"
#include "worker/callback_relay.h"
#include "worker/handler_cgroup.h"
#include "worker/handler_host.h"
#include "worker/handler_process_pool.h"
#include "worker/handler_registry.h"
#include "worker/heartbeat.h"
#include "worker/history_recorder.h"
#include "worker/processor.h"
#include "worker/sharded_queue.h"
#include "worker/thread_pool.h"

namespace taskq {

Result<std::vector<QueueShardCount>> ParseQueueShards(std::string_view text) {
  std::vector<QueueShardCount> out;
  for (std::string_view item : SplitList(text)) {
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("queue_shards", "'" + std::string(item) + "' must be QUEUE=N");
    }
    QueueShardCount q{std::string(item.substr(0, eq)), 0};
    TASKQ_RETURN_IF_ERROR(ValidateName("queue_shards", q.queue));
    const std::string_view n = item.substr(eq + 1);
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), q.shards);
    if (ec != std::errc() || ptr != n.data() + n.size() || q.shards < 1 || q.shards > kMaxShards) {
      return InvalidArgument("queue_shards", "shards of '" + q.queue + "' must be in [1, " +
                                                 std::to_string(kMaxShards) + "]");
    }
    for (const auto& existing : out) {
      if (existing.queue == q.queue) {
        return InvalidArgument("queue_shards", "'" + q.queue + "' twice");
      }
    }
    out.push_back(std::move(q));
  }
  return out;
}

Result<std::vector<QueueConcurrency>> ParseQueueList(std::string_view text) {
  std::vector<QueueConcurrency> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    QueueConcurrency q;
    if (const size_t colon = item.rfind(':'); colon != std::string_view::npos) {
      const std::string_view isolation = item.substr(colon + 1);
      if (isolation == "process") {
        q.isolation = Isolation::kProcess;
      } else if (isolation != "thread") {
        return InvalidArgument("queues", "isolation of '" + std::string(item.substr(0, colon)) +
                                             "' must be thread or process");
      }
      item = item.substr(0, colon);
    }
    auto eq = item.find('=');
    q.queue = std::string(item.substr(0, eq));
    TASKQ_RETURN_IF_ERROR(ValidateName("queues", q.queue));
    if (eq != std::string_view::npos) {
      std::string_view n = item.substr(eq + 1);
      auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), q.concurrency);
      if (ec != std::errc() || ptr != n.data() + n.size() || q.concurrency < 1 ||
          q.concurrency > 1000) {
        return InvalidArgument("queues", "concurrency of '" + q.queue + "' must be in [1, 1000]");
      }
    }
    for (const auto& existing : out) {
      if (existing.queue == q.queue) return InvalidArgument("queues", "'" + q.queue + "' twice");
    }
    out.push_back(std::move(q));
  }
  if (out.empty()) return InvalidArgument("queues", "name at least one queue");
  return out;
}

bool IsHandlerProcess() { return worker::HandlerProcessSettingsOfThisProcess().has_value(); }

class Worker::Impl {
 public:
  explicit Impl(WorkerOptions options) : options_(std::move(options)) {}
  ~Impl() { Stop(); }

  void Register(std::string type, Handler handler, HandlerOptions options) {
    registry_.Register(std::move(type), std::move(handler), options);
  }

  Status Start() {
    if (started_) return Status(StatusCode::kFailedPrecondition, "the worker was started already");
    if (std::getenv(worker::kHandlerProcessVariable) != nullptr) {
      // A handler process, or one whose worker ended before it could check: never a worker.
      return Status(StatusCode::kFailedPrecondition,
                    "this process was started as a handler process: serve with "
                    "Worker::ServeHandlerProcess(), or end");
    }
    if (options_.queues.empty()) return InvalidArgument("queues", "name at least one queue");
    for (const auto& q : options_.queues) {
      if (q.concurrency < 1 || q.concurrency > 1000) {
        return InvalidArgument("queues", "concurrency of '" + q.queue + "' must be in [1, 1000]");
      }
    }
    if (options_.lease < std::chrono::milliseconds(100)) {
      return InvalidArgument("lease", "must be at least 100 ms");
    }
    if (options_.max_errors_kept < 1 || options_.max_log_lines < 1 ||
        options_.max_log_lines > 1000) {
      return InvalidArgument("max_errors_kept",
                             "max_errors_kept must be >= 1 and max_log_lines in [1, 1000]");
    }
    if (options_.handler_memory_limit_mb < 0 || options_.handler_kill_grace.count() < 0) {
      return InvalidArgument("handler_memory_limit_mb",
                             "handler_memory_limit_mb and handler_kill_grace must be >= 0");
    }
    if (const std::string& c = options_.handler_cgroup;
        c != "auto" && c != "off" && !c.starts_with("/")) {
      return InvalidArgument("handler_cgroup",
                             "handler_cgroup must be auto, off or an absolute path");
    }
    if (options_.recover_interval.count() < 1 || options_.idle_poll.count() < 1 ||
        options_.heartbeat_interval.count() < 1 || options_.max_stalls < 0) {
      return InvalidArgument("recover_interval", "intervals must be positive, max_stalls >= 0");
    }
    TASKQ_RETURN_IF_ERROR(ValidateName("callback_queue", options_.callback_queue));
    if (options_.history_bucket.count() != 0 &&
        (options_.history_bucket < std::chrono::seconds(1) ||
         options_.history_bucket > std::chrono::hours(1) || options_.history_keep < 1 ||
         options_.history_keep > 10080)) {
      return InvalidArgument("history_bucket",
                             "history_bucket must be 0 or 1 s to 1 h, history_keep 1 to 10080");
    }
    started_ = true;
    broker::BrokerOptions broker_options{options_.redis_url, options_.key_prefix};
    auto check = broker::OpenBroker(broker_options);
    if (!check.ok()) return check.status();
    if (options_.check_server) TASKQ_RETURN_IF_ERROR((*check)->CheckServer());
    int threads = 0;
    for (const auto& q : options_.queues) {
      TASKQ_RETURN_IF_ERROR(ValidateName("queues", q.queue));
      TASKQ_RETURN_IF_ERROR((*check)->RegisterQueue(q.queue));
      if (q.isolation == Isolation::kThread) threads += q.concurrency;  // others: processes
    }
    for (const QueueShardCount& q : options_.queue_shards) {
      TASKQ_RETURN_IF_ERROR(ValidateName("queue_shards", q.queue));
      auto layout = (*check)->Layout(q.queue);
      if (!layout.ok()) return layout.status();
      if (layout->shards() == q.shards) continue;
      auto changed = (*check)->SetShards(q.queue, q.shards);
      if (changed.ok()) {
        spdlog::info("queue {}: spread over {} shard(s)", q.queue, q.shards);
      } else {
        spdlog::warn("queue {}: keeps {} shard(s), not {}: {}", q.queue, layout->shards(), q.shards,
                     changed.status().ToString());
      }
    }
    pool_ = std::make_unique<worker::ThreadPool>(std::max(threads, 1));
    TASKQ_RETURN_IF_ERROR(StartHandlerProcesses());
    const WorkerInfo description = Describe();
    // A job loop's round trips carry its lease renewals: one that hangs must end well within the
    // lease, so that the loop can stop handlers whose leases it could not renew.
    broker::BrokerOptions loop_broker_options = broker_options;
    loop_broker_options.reply_timeout =
        std::max(options_.lease / 3, std::chrono::milliseconds(100));
    {
      auto relay_broker = broker::OpenBroker(broker_options);
      if (!relay_broker.ok()) return relay_broker.status();
      worker::CallbackRelayOptions r;
      r.callback_queue = options_.callback_queue;
      r.token = description.id;
      std::vector<std::string> queues;
      for (const auto& q : options_.queues) queues.push_back(q.queue);
      relay_ =
          std::make_unique<worker::CallbackRelay>(r, std::move(*relay_broker), std::move(queues));
    }
    if (options_.history_bucket.count() != 0) {
      auto history_broker = broker::OpenBroker(broker_options);
      if (!history_broker.ok()) return history_broker.status();
      worker::HistoryRecorderOptions h;
      h.bucket = options_.history_bucket;
      h.keep = options_.history_keep;
      history_ = std::make_unique<worker::HistoryRecorder>(h, std::move(*history_broker));
    }
    for (const auto& q : options_.queues) {
      auto make_loop = [this, q, loop_broker_options, broker_options, id = description.id](
                           const std::string& tag, std::shared_ptr<worker::SlotPool> slot_pool,
                           int32_t index) -> Result<std::unique_ptr<worker::Processor>> {
        auto broker = broker::OpenBroker(loop_broker_options);
        if (!broker.ok()) return broker.status();
        worker::ProcessorOptions p;
        p.queue = q.queue;
        p.shard_tag = tag;
        p.concurrency = q.concurrency;
        p.slot_pool = std::move(slot_pool);
        p.shard_index = index;
        p.lease = options_.lease;
        p.recover_interval = options_.recover_interval;
        p.max_stalls = options_.max_stalls;
        p.default_timeout = options_.default_timeout;
        p.idle_poll = options_.idle_poll;
        p.max_errors_kept = options_.max_errors_kept;
        p.max_log_lines = options_.max_log_lines;
        p.worker_id = id;
        p.subscribe = [broker_options, tag] {
          return broker::SubscribeWake(broker_options, std::span<const std::string>(&tag, 1));
        };
        p.processes = PoolOf(q.queue);
        p.handler_kill_grace = options_.handler_kill_grace;
        p.notify_relay = [relay = relay_.get()] { relay->Poke(); };
        return std::make_unique<worker::Processor>(p, std::move(*broker), registry_, *pool_);
      };
      queues_.push_back(
          std::make_unique<worker::ShardedQueue>(q.queue, q.concurrency, std::move(make_loop)));
    }
    // Each queue's loops, one per shard of its layout; the layouts are read again every
    // recover_interval (LayoutWatch).
    for (auto& q : queues_) {
      auto layout = (*check)->Layout(q->queue());
      if (!layout.ok()) return layout.status();
      auto applied = q->Apply(layout->tags, options_.shutdown_grace);
      if (!applied.ok()) return applied.status();
    }
    {
      auto layout_broker = broker::OpenBroker(broker_options);
      if (!layout_broker.ok()) return layout_broker.status();
      layout_watch_ = std::thread([this, broker = std::move(*layout_broker)] {
        std::unique_lock lock(watch_mu_);
        while (
            !watch_cv_.wait_for(lock, options_.recover_interval, [this] { return !watching_; })) {
          lock.unlock();
          for (auto& q : queues_) {
            auto layout = broker->Layout(q->queue());
            auto applied = layout.ok() ? q->Apply(layout->tags, options_.shutdown_grace)
                                       : Result<bool>(layout.status());
            if (!applied.ok()) {
              spdlog::warn("queue {}: reading its shards failed: {}", q->queue(),
                           applied.status().ToString());
            } else if (*applied) {
              spdlog::info("queue {}: claiming from {} shard(s)", q->queue(), layout->shards());
            }
            // A sharded queue's concurrency follows its work from shard to shard.
            if (layout.ok() && layout->shards() > 1) {
              auto moved = broker->BalanceShares(*layout);
              if (!moved.ok()) {
                spdlog::warn("queue {}: moving concurrency between its shards failed: {}",
                             q->queue(), moved.status().ToString());
              }
            }
          }
          lock.lock();
        }
      });
    }
    relay_->Start();
    if (history_) history_->Start();
    heartbeat_ = std::make_unique<worker::Heartbeat>(
        worker::HeartbeatOptions{options_.heartbeat_interval}, std::move(*check),
        [this, base = description] {
          WorkerInfo info = base;
          for (size_t i = 0; i < queues_.size(); ++i) {
            info.queues[i].running = static_cast<int32_t>(queues_[i]->running());
            if (const worker::HandlerProcessPool* pool = PoolOf(info.queues[i].queue)) {
              info.queues[i].processes = pool->stats().running;
            }
          }
          const WorkerStats s = stats();
          info.completed = s.completed;
          info.failed = s.failed;
          return info;
        },
        [this] {
          worker::Heartbeat::QueueIncrements out;
          for (const auto& p : queues_) {
            out.emplace_back(p->queue(), p->DrainTimings());
            if (worker::HandlerProcessPool* pool = PoolOf(p->queue())) {
              for (auto& counter : pool->DrainCounters()) out.back().second.push_back(counter);
            }
          }
          return out;
        });
    heartbeat_->Start();
    running_ = true;
    return Status::Ok();
  }

  // Order matters: stop claiming first (nothing new starts), then give running jobs the grace
  // period, then end the loops (which hand back leases of what still runs), and only then stop
  // the listener, which the loops no longer need.
  void Stop() {
    if (!running_) return;
    running_ = false;
    {
      std::lock_guard lock(watch_mu_);
      watching_ = false;
    }
    watch_cv_.notify_all();
    if (layout_watch_.joinable()) layout_watch_.join();  // no layout change starts loops now
    for (auto& q : queues_) q->StopClaiming();
    const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
    for (auto& q : queues_) q->WaitIdle(deadline);
    for (auto& q : queues_) stuck_ += q->Shutdown();
    relay_->Stop();  // after the loops: it relays the callbacks of the last jobs too
    if (history_) history_->Stop();
    // The heartbeat goes after the queue loops (the worker stays listed while it drains) and
    // before final_stats_ is written: its thread reads stats() until it is joined.
    heartbeat_->Stop();
    final_stats_ = stats();
    stopped_ = true;
    // Last, the handler processes: every attempt of theirs ended or was handed back above (an
    // attempt still in one is dropped with it), and nothing reads the pools any more.
    process_pools_.clear();
  }

  WorkerStats stats() const {
    if (stopped_) return final_stats_;
    WorkerStats out;
    for (const auto& p : queues_) {
      auto s = p->stats();
      out.claimed += s.claimed;
      out.completed += s.completed;
      out.failed += s.failed;
      out.rejected += s.rejected;
      out.round_trips += s.round_trips;
    }
    for (const auto& [queue, pool] : process_pools_) {
      const worker::HandlerProcessStats s = pool->stats();
      out.handler_processes_started += s.started;
      out.handler_processes_timed_out += s.timeout_kills;
      out.handler_processes_stopped += s.stop_kills;
      out.handler_processes_out_of_memory += s.memory_kills;
      out.handler_processes_crashed += s.crashes;
    }
    return out;
  }

  int64_t stuck() const { return stuck_; }

  int ServeHandlerProcess() {
    const auto settings = worker::HandlerProcessSettingsOfThisProcess();
    if (!settings) {
      spdlog::error("ServeHandlerProcess: this process was not started as a handler process");
      return 2;
    }
    return worker::ServeHandlers(*settings, registry_);
  }

 private:
  // The handler processes of every queue in process isolation, each pool started (so that a
  // program that cannot serve as a handler process fails Start, not its jobs).
  Status StartHandlerProcesses() {
    worker::HandlerProcessOptions process;
    process.memory_limit_mb = options_.handler_memory_limit_mb;
    process.kill_grace = options_.handler_kill_grace;
    for (const auto& q : options_.queues) {
      if (q.isolation != Isolation::kProcess) continue;
      if (process.program.empty()) {
        if (options_.handler_command.empty()) {
          auto own = ReadOwnCommand();
          if (!own.ok()) return own.status();
          process.program = std::move(own->program);
          process.argv = std::move(own->argv);
        } else {
          process.program = options_.handler_command.front();
          process.argv = options_.handler_command;
        }
        auto cap = MemoryCapOfHandlerProcesses(process);
        if (!cap.ok()) return cap.status();
        spdlog::info("handler processes run {}; memory cap {}", process.program, *cap);
      }
      auto pool = std::make_unique<worker::HandlerProcessPool>(q.queue, process, q.concurrency);
      TASKQ_RETURN_IF_ERROR(pool->Start());
      process_pools_.emplace_back(q.queue, std::move(pool));
    }
    return Status::Ok();
  }

  // Sets where the handler processes' memory cap comes from (WorkerOptions::handler_cgroup);
  // says which, for the log.
  Result<std::string> MemoryCapOfHandlerProcesses(worker::HandlerProcessOptions& process) const {
    const int64_t mb = process.memory_limit_mb;
    if (mb <= 0) return std::string("none");
    const std::string& setting = options_.handler_cgroup;
    std::string why_not = "handler_cgroup is off";
    if (setting != "off") {
      auto parent =
          setting == "auto" ? worker::DelegatedCgroupOfThisProcess() : Result<std::string>(setting);
      using Cgroups = Result<std::shared_ptr<worker::HandlerCgroups>>;
      Cgroups cgroups =
          parent.ok() ? worker::HandlerCgroups::Prepare(*parent, mb) : Cgroups(parent.status());
      if (cgroups.ok()) {
        process.cgroups = std::move(*cgroups);
        return std::to_string(mb) + " MiB each (cgroup v2 memory.max, in " +
               process.cgroups->parent() + ")";
      }
      if (setting != "auto") return cgroups.status();
      why_not = cgroups.status().message();
    }
    if (kAddressSanitizer) return std::string("none (RLIMIT_DATA is not applied under ASan)");
    return std::to_string(mb) + " MiB each (RLIMIT_DATA; no cgroup: " + why_not + ")";
  }

  // The queue's handler processes; null for a queue whose handlers run on threads.
  worker::HandlerProcessPool* PoolOf(const std::string& queue) const {
    for (const auto& [name, pool] : process_pools_) {
      if (name == queue) return pool.get();
    }
    return nullptr;
  }

  // The parts of this worker's description that never change.
  WorkerInfo Describe() const {
    WorkerInfo info;
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    info.host = host;
    info.pid = getpid();
    std::random_device random;
    char suffix[9];
    std::snprintf(suffix, sizeof(suffix), "%08x", random());
    info.id = info.host + ":" + std::to_string(info.pid) + ":" + suffix;
    for (const auto& q : options_.queues) {
      info.queues.push_back({q.queue, q.concurrency, 0, q.isolation == Isolation::kProcess, 0});
    }
    info.job_types = registry_.Types();
    info.started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    return info;
  }

  const WorkerOptions options_;
  worker::HandlerRegistry registry_;
  // Declared before the processors, so destroyed after them: they poke it.
  std::unique_ptr<worker::CallbackRelay> relay_;
  std::unique_ptr<worker::HistoryRecorder> history_;  // none when history_bucket is 0
  // The claim loops, one ShardedQueue per queue of options_.queues, in that order.
  std::vector<std::unique_ptr<worker::ShardedQueue>> queues_;
  std::thread layout_watch_;  // applies changes of the queues' layouts
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watching_ = true;  // guarded by watch_mu_
  // Declared after the processors, so destroyed before them: its threads are joined while the
  // processors that running handlers report to still exist.
  std::unique_ptr<worker::ThreadPool> pool_;
  std::unique_ptr<worker::Heartbeat> heartbeat_;
  // Process isolation. Declared after the processors, so destroyed before them: a pool calls its
  // processor back with results until its thread is joined.
  std::vector<std::pair<std::string, std::unique_ptr<worker::HandlerProcessPool>>> process_pools_;
  bool started_ = false;
  bool running_ = false;
  bool stopped_ = false;
  WorkerStats final_stats_;
  int64_t stuck_ = 0;
};

Worker::Worker(WorkerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Worker::~Worker() = default;
void Worker::Register(std::string type, Handler handler, HandlerOptions options) {
  impl_->Register(std::move(type), std::move(handler), options);
}
Status Worker::Start() { return impl_->Start(); }
int Worker::ServeHandlerProcess() { return impl_->ServeHandlerProcess(); }
void Worker::Stop() { impl_->Stop(); }
WorkerStats Worker::stats() const { return impl_->stats(); }
int64_t Worker::stuck_handlers() const { return impl_->stuck(); }

}  // namespace taskq
