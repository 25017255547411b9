// The benchmark workloads of bench/README.md (W1 to W5, W7) against a redis-server this program
// starts. Prints one JSON object. Each figure is the median of 3 runs (1 with --quick, which also
// uses smaller N). Delivery is what production uses: leases and fencing tokens, no shortcuts.
// Over 600 lines: the workloads share the Redis process, the enqueue helpers and the report, and
// each is a few dozen lines; a file per workload would split one program's main across them.
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "redis_cluster_processes.h"
#include "redis_process.h"
#include "taskq/batch.h"
#include "taskq/client.h"
#include "taskq/flow.h"
#include "taskq/inspector.h"
#include "taskq/worker.h"

namespace taskq::bench {
namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Config {
  bool quick = false;
  int runs = 3;
  int n = 100000;
  double w3_seconds = 10;
  int w5_jobs = 10000;
  // W7: children per parent of a flow 3 levels deep. 99 is the most that fits one flow
  // (1 + 99 + 99 * 99 = 9,901 jobs; a flow is one script call of at most kMaxBulkJobs).
  int w7_width = 99;
  std::pair<int, int> shape{0, 0};  // W2 processes x concurrency; 0: sweep
  bool threaded = false;            // --threaded: W2 --only runs handlers on handler threads
  bool process = false;             // --process: W2 --only runs handlers in handler processes
  int64_t rate_limit = 0;           // --rate N: W2 --only with a rate limit of N per second
  bool tls = false;                 // --tls: W2 --only over rediss:// to the same Redis
  bool cluster = false;             // --cluster: W2 --only on a cluster of 3 masters
  bool sharded = false;  // --sharded: W2 --only, one queue over 1, 2 and 3 shards of 3 masters
};

// ~100 bytes, as bench/README.md asks; "ts" (enqueue time, us) lets handlers measure latency.
std::string Payload(int64_t ts_us = 0) {
  return "{\"to\":\"user@example.com\",\"subject\":\"Hello\",\"ts\":" + std::to_string(ts_us) +
         ",\"body\":\"" + std::string(40, 'x') + "\"}";
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t TsOf(const std::string& data) {
  auto pos = data.find("\"ts\":");
  return pos == std::string::npos ? 0 : std::stoll(data.substr(pos + 5));
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void Flush(RedisProcess& redis) { redis.Cli({"FLUSHALL"}); }

std::unique_ptr<Client> OpenClient(const RedisProcess& redis) {
  auto client = Client::Open({redis.url()});
  if (!client.ok()) std::abort();
  return std::move(*client);
}

std::vector<EnqueueRequest> Batch(int n, const std::string& queue, EnqueueOptions options = {}) {
  options.queue = queue;
  return std::vector<EnqueueRequest>(n, EnqueueRequest{"email", Payload(), options});
}

// The bulk API in batches of 1,000 (bench/README.md), pipelined.
bool EnqueueAll(Client& client, const std::vector<EnqueueRequest>& requests) {
  auto created = client.EnqueueBatches(requests, 1000);
  if (!created.ok()) std::fprintf(stderr, "enqueue: %s\n", created.status().ToString().c_str());
  return created.ok();  // the figure is then 0, and stderr says why
}

double RedisRttOpsPerSecond(const RedisProcess& redis) {
  std::string out = Capture("redis-benchmark -p " + std::to_string(redis.port()) +
                            " -c 1 -n 20000 -t lpush --csv 2>/dev/null");
  // "LPUSH","23584.90",...
  auto pos = out.find("\"LPUSH\",\"");
  return pos == std::string::npos ? 0 : std::stod(out.substr(pos + 9));
}

// The one-client rate of the least script an enqueue needs (Redis' clock, an idempotent SET NX,
// the queue push and the wake), driven by redis-benchmark like the LPUSH rate: the ceiling of any
// enqueue through a Lua script on this machine. Reported beside W1a to explain its share.
double MinimalScriptOpsPerSecond(const RedisProcess& redis) {
  const std::string sha = redis.Cli({"SCRIPT", "LOAD",
                                     "local t = redis.call(\"TIME\") "
                                     "if redis.call(\"SET\", KEYS[1], \"x\", \"NX\") then "
                                     "redis.call(\"RPUSH\", KEYS[2], \"x\") end "
                                     "redis.call(\"PUBLISH\", \"bench-wake\", \"\") return 1"});
  std::string out = Capture("redis-benchmark -p " + std::to_string(redis.port()) +
                            " -c 1 -n 20000 -r 100000000 --csv EVALSHA " +
                            sha.substr(0, sha.find_first_of("\r\n")) +
                            " 2 bench:__rand_int__ bench-list 2>/dev/null");
  // "EVALSHA ...","15535.99",...
  auto line = out.find("\"EVALSHA");
  auto pos = line == std::string::npos ? line : out.find("\",\"", line);
  return pos == std::string::npos ? 0 : std::stod(out.substr(pos + 3));
}

double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// CPU per job of this process (the client) and of Redis' main thread over one workload: which
// side bounds it (stderr only; the machine's noise moves both).
class CpuUse {
 public:
  explicit CpuUse(const RedisProcess& redis)
      : redis_(redis), client_(ProcessCpuSeconds()), server_(redis.MainThreadCpuSeconds()) {}
  void Print(const char* workload, int n, double elapsed) const {
    std::fprintf(stderr,
                 "%s: %.0f jobs/s, wall %.2f us/job, client cpu %.2f us/job, redis cpu %.2f "
                 "us/job\n",
                 workload, n / elapsed, elapsed * 1e6 / n,
                 (ProcessCpuSeconds() - client_) * 1e6 / n,
                 (redis_.MainThreadCpuSeconds() - server_) * 1e6 / n);
  }

 private:
  const RedisProcess& redis_;
  const double client_;
  const double server_;
};

double W1a(RedisProcess& redis, int n) {
  Flush(redis);
  auto client = OpenClient(redis);
  EnqueueRequest request{"email", Payload(), {}};
  const CpuUse cpu(redis);
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (!client->Enqueue(request).ok()) return 0;
  }
  const double elapsed = Seconds(Clock::now() - start);
  cpu.Print("w1a", n, elapsed);
  return n / elapsed;
}

double W1b(RedisProcess& redis, int n) {
  Flush(redis);
  auto client = OpenClient(redis);
  auto requests = Batch(n, "email");
  const CpuUse cpu(redis);
  auto start = Clock::now();
  if (!EnqueueAll(*client, requests)) return 0;
  const double elapsed = Seconds(Clock::now() - start);
  cpu.Print("w1b", n, elapsed);
  return n / elapsed;
}

// A per-second rate limit no W2 run comes near (w2_ratelimited_jobs_per_s).
constexpr int64_t kFarAboveLoad = 100'000'000;

struct W2Result {
  double jobs_per_s = 0;          // without start-up: first completion to last
  double jobs_per_s_startup = 0;  // from starting the workers to the last completion
  double script_calls_per_job = 0;
  double redis_cpu_us_per_job = 0;  // Redis' main thread, from the workers' start to the last job
  double round_trips_per_job = 0;
};

// Where W2's no-op handler runs.
enum class HandlerMode {
  kInline,  // on the queue loop (HandlerOptions::run_inline), as a handler that returns at once may
  kThread,  // on a handler thread, as every other handler
  kProcess,  // in a handler process of the queue (Isolation::kProcess), one per slot
};

const char* ModeName(HandlerMode mode) {
  return mode == HandlerMode::kInline   ? "inline"
         : mode == HandlerMode::kThread ? "threaded"
                                        : "process";
}

// The no-op handler every W2 worker registers; handler processes register it too (main).
void RegisterNoOp(Worker& worker, bool run_inline) {
  worker.Register(
      "email", [](JobContext&) { return HandlerResult::Success(); }, HandlerOptions{run_inline});
}

// In a forked worker process: starts `worker` and stops it once the bench queue ("email") has
// completed `expected` jobs in all (each process watches; the parent measures). false: it did
// not start.
bool RunUntilCompleted(Worker& worker, const RedisProcess& redis, int64_t expected) {
  if (!worker.Start().ok()) return false;
  auto watcher = std::move(*Inspector::Open({redis.url()}));
  while (true) {
    auto c = watcher->Counts("email");
    if (c.ok() && c->completed_total >= expected) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  worker.Stop();
  return true;
}

// Runs `processes` worker processes (forked), each with one queue of `concurrency` slots and a
// no-op handler run as `mode` says, until the N waiting jobs are completed. rate_limit > 0: the
// queue has that rate limit per second (w2_ratelimited: one far above the load, to price the
// check).
W2Result W2(RedisProcess& redis, int n, int processes, int concurrency, HandlerMode mode,
            int64_t rate_limit = 0) {
  Flush(redis);
  {
    auto client = OpenClient(redis);
    if (!EnqueueAll(*client, Batch(n, "email"))) return {};
  }
  auto inspector = std::move(*Inspector::Open({redis.url()}));
  if (rate_limit > 0) {
    QueueLimits limits;
    limits.rate = {rate_limit, milliseconds(1000)};
    if (!inspector->SetLimits("email", limits).ok()) return {};
  }
  const long long calls_before = redis.CommandCalls("evalsha");
  const double redis_cpu_before = redis.MainThreadCpuSeconds();
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  std::fflush(nullptr);
  const auto start = Clock::now();
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipe_fds[0]);
      WorkerOptions options;
      options.redis_url = redis.url();
      options.queues = {{"email", concurrency,
                         mode == HandlerMode::kProcess ? Isolation::kProcess : Isolation::kThread}};
      Worker worker(options);
      RegisterNoOp(worker, mode == HandlerMode::kInline);
      // Stop once the queue is drained; the parent measures.
      if (!RunUntilCompleted(worker, redis, n)) ::_exit(1);
      std::string line = std::to_string(worker.stats().round_trips) + "\n";
      if (::write(pipe_fds[1], line.data(), line.size()) < 0) ::_exit(1);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  ::close(pipe_fds[1]);
  Clock::time_point first_done{};
  Clock::time_point last_done{};
  int64_t first_count = 0;
  while (true) {
    auto c = inspector->Counts("email");
    if (!c.ok()) break;
    if (first_done == Clock::time_point{} && c->completed_total > 0) {
      first_done = Clock::now();
      first_count = c->completed_total;
    }
    if (c->completed_total >= n) {
      last_done = Clock::now();
      break;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  int64_t round_trips = 0;
  FILE* in = ::fdopen(pipe_fds[0], "r");
  long long rt = 0;
  while (std::fscanf(in, "%lld", &rt) == 1) round_trips += rt;
  std::fclose(in);
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
  W2Result r;
  r.jobs_per_s_startup = n / Seconds(last_done - start);
  r.jobs_per_s = (n - first_count) / Seconds(last_done - first_done);
  r.script_calls_per_job = static_cast<double>(redis.CommandCalls("evalsha") - calls_before) / n;
  r.redis_cpu_us_per_job = (redis.MainThreadCpuSeconds() - redis_cpu_before) * 1e6 / n;
  r.round_trips_per_job = static_cast<double>(round_trips) / n;
  return r;
}

// W7: what a batch costs on top of the jobs in it. Workers as W2 runs them, started and idle;
// then either a batch of n no-op members with an on_complete callback (SubmitBatch), timed from
// just before the submission to the callback's start (its handler sends the time), or the base:
// the same n jobs in one bulk (EnqueueBulk, one script call as the batch is), timed until the
// last completes.
struct W7Result {
  double seconds = 0;         // from just before the submission to the end (above)
  double submit_seconds = 0;  // the submission call alone
  double redis_cpu_ms = 0;    // Redis' main thread over the whole run
};

W7Result W7(RedisProcess& redis, int n, int processes, int concurrency, bool batch) {
  Flush(redis);
  auto inspector = std::move(*Inspector::Open({redis.url()}));
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  // Every job counted complete: the members (or the bulk's jobs), and the callback.
  const int64_t expected = n + (batch ? 1 : 0);
  std::fflush(nullptr);
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipe_fds[0]);
      WorkerOptions options;
      options.redis_url = redis.url();
      options.queues = {{"email", concurrency, Isolation::kThread}};
      Worker worker(options);
      RegisterNoOp(worker, /*run_inline=*/true);
      // The callback reports when it starts: steady_clock is one clock for every process here.
      const int fd = pipe_fds[1];
      worker.Register(
          "summary",
          [fd](JobContext&) {
            const std::string line = std::to_string(Clock::now().time_since_epoch().count()) + "\n";
            if (::write(fd, line.data(), line.size()) < 0) return HandlerResult::Fail("pipe");
            return HandlerResult::Success();
          },
          HandlerOptions{true});
      ::_exit(RunUntilCompleted(worker, redis, expected) ? 0 : 1);
    }
    children.push_back(pid);
  }
  ::close(pipe_fds[1]);
  // Running and idle: every worker has sent its heartbeat, and its queue loop waits for work.
  auto reap = [&] {
    for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
    ::close(pipe_fds[0]);
  };
  for (int i = 0; i < 500; ++i) {
    auto workers = inspector->Workers();
    if (workers.ok() && static_cast<int>(workers->workers.size()) >= processes) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::this_thread::sleep_for(milliseconds(200));

  auto client = OpenClient(redis);
  const double redis_cpu_before = redis.MainThreadCpuSeconds();
  W7Result r;
  const auto start = Clock::now();
  if (batch) {
    BatchRequest request;
    request.jobs = Batch(n, "email");
    request.on_complete = EnqueueRequest{"summary", "{}", {}};
    request.on_complete->options.queue = "email";
    auto submitted = client->SubmitBatch(request);
    r.submit_seconds = Seconds(Clock::now() - start);
    if (!submitted.ok()) {
      std::fprintf(stderr, "w7: %s\n", submitted.status().ToString().c_str());
      std::exit(1);  // the workers wait for jobs that never come
    }
    pollfd wait_for{pipe_fds[0], POLLIN, 0};
    char line[64] = {};
    if (::poll(&wait_for, 1, 120000) != 1 || ::read(pipe_fds[0], line, sizeof(line) - 1) <= 0) {
      std::fprintf(stderr, "w7: the callback never started\n");
      std::exit(1);
    }
    r.seconds = Seconds(Clock::time_point(Clock::duration(std::stoll(line))) - start);
  } else {
    std::vector<EnqueueRequest> jobs = Batch(n, "email");
    auto enqueued = client->EnqueueBulk(jobs);
    r.submit_seconds = Seconds(Clock::now() - start);
    if (!enqueued.ok()) {
      std::fprintf(stderr, "w7 base: %s\n", enqueued.status().ToString().c_str());
      std::exit(1);
    }
    while (true) {
      auto c = inspector->Counts("email");
      if (c.ok() && c->completed_total >= n) break;
      std::this_thread::sleep_for(milliseconds(2));
    }
    r.seconds = Seconds(Clock::now() - start);
  }
  r.redis_cpu_ms = (redis.MainThreadCpuSeconds() - redis_cpu_before) * 1e3;
  reap();
  return r;
}

// W7 and its base, interleaved `runs` times at one shape; medians of each, and the share.
void W7Report(RedisProcess& redis, int runs, std::pair<int, int> shape,
              std::map<std::string, double>& report) {
  constexpr int kW7Jobs = 10000;
  std::vector<double> batch, base, batch_submit, base_submit;
  for (int i = 0; i < runs; ++i) {
    W7Result b = W7(redis, kW7Jobs, shape.first, shape.second, /*batch=*/true);
    W7Result w = W7(redis, kW7Jobs, shape.first, shape.second, /*batch=*/false);
    std::fprintf(stderr,
                 "w7 %dx%d: batch %.3f s (submit %.3f s, redis cpu %.0f ms), bulk %.3f s (submit "
                 "%.3f s, redis cpu %.0f ms)\n",
                 shape.first, shape.second, b.seconds, b.submit_seconds, b.redis_cpu_ms, w.seconds,
                 w.submit_seconds, w.redis_cpu_ms);
    batch.push_back(b.seconds);
    base.push_back(w.seconds);
    batch_submit.push_back(b.submit_seconds);
    base_submit.push_back(w.submit_seconds);
  }
  report["w7_batch_seconds"] = Median(batch);
  report["w7_w2_10k_seconds"] = Median(base);
  report["w7_batch_share_of_w2"] = Median(batch) / Median(base);
  report["w7_batch_submit_seconds"] = Median(batch_submit);
  report["w7_w2_10k_submit_seconds"] = Median(base_submit);
}

// Forks `processes` workers serving `queues` (name, slots) on `url` until `total` jobs of them
// completed, and returns the jobs per second from the first completion to the last (0 when the
// counts cannot be read).
double RunWorkersUntilDone(const std::string& url,
                           const std::vector<std::pair<std::string, int>>& queues, int processes,
                           int64_t total) {
  auto completed = [&queues](Inspector& inspector) {
    int64_t sum = 0;
    for (const auto& [queue, slots] : queues) {
      auto c = inspector.Counts(queue);
      if (!c.ok()) return int64_t{-1};
      sum += c->completed_total;
    }
    return sum;
  };
  std::fflush(nullptr);
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      WorkerOptions options;
      options.redis_url = url;
      for (const auto& [queue, slots] : queues) {
        options.queues.push_back({queue, slots, Isolation::kThread});
      }
      Worker worker(options);
      RegisterNoOp(worker, /*run_inline=*/true);
      if (!worker.Start().ok()) ::_exit(1);
      auto watcher = std::move(*Inspector::Open({url}));
      while (completed(*watcher) < total) std::this_thread::sleep_for(milliseconds(20));
      worker.Stop();
      ::_exit(0);
    }
    children.push_back(pid);
  }
  auto inspector = std::move(*Inspector::Open({url}));
  Clock::time_point first_done{}, last_done{};
  int64_t first_count = 0;
  while (true) {
    const int64_t done = completed(*inspector);
    if (done < 0) break;
    if (first_done == Clock::time_point{} && done > 0) {
      first_done = Clock::now();
      first_count = done;
    }
    if (done >= total) {
      last_done = Clock::now();
      break;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
  if (last_done == Clock::time_point{}) return 0;
  return (total - first_count) / Seconds(last_done - first_done);
}

// W2 on a cluster of `cluster.masters()` masters (w2_cluster): one queue on each master, n jobs
// in all spread evenly, `processes` workers each serving every queue with `concurrency` slots.
// Redis CPU is the masters' together, per job.
W2Result W2Cluster(RedisClusterProcesses& cluster, int n, int processes, int concurrency) {
  cluster.FlushAll();
  const int masters = static_cast<int>(cluster.masters().size());
  std::vector<std::string> queues(masters);
  for (int i = 0, found = 0; found < masters && i < 10000; ++i) {
    const std::string name = "q" + std::to_string(i);
    const int master = cluster.MasterOf("taskq:{" + name + "}:wait");
    if (master >= 0 && queues[master].empty()) {
      queues[master] = name;
      ++found;
    }
  }
  {
    auto client = Client::Open({cluster.url()});
    if (!client.ok()) return {};
    std::vector<EnqueueRequest> all;
    for (const std::string& queue : queues) {
      auto part = Batch(n / masters, queue);
      all.insert(all.end(), part.begin(), part.end());
    }
    if (!EnqueueAll(**client, all)) return {};
  }
  const int total = n / masters * masters;
  std::vector<std::pair<std::string, int>> served;
  for (const std::string& queue : queues) served.emplace_back(queue, concurrency);
  const std::vector<double> cpu_before = cluster.MainThreadCpuSeconds();
  const double jobs_per_s = RunWorkersUntilDone(cluster.url(), served, processes, total);
  const std::vector<double> cpu_after = cluster.MainThreadCpuSeconds();
  W2Result r;
  r.jobs_per_s = jobs_per_s;
  double cpu = 0;
  for (int i = 0; i < masters; ++i) {
    cpu += cpu_after[i] - cpu_before[i];
    std::fprintf(stderr, "w2 cluster: master %d (queue %s): redis cpu %.2f us per job of its own\n",
                 i, queues[i].c_str(), (cpu_after[i] - cpu_before[i]) * 1e6 / (total / masters));
  }
  r.redis_cpu_us_per_job = cpu * 1e6 / total;
  return r;
}

// W2 on one queue spread over `shards` shards of a cluster (w2_sharded): n jobs placed by the
// client, `processes` workers each serving the queue with `concurrency` slots per shard. Each
// shard's Redis CPU per job is its master's main-thread CPU over the jobs that shard completed:
// with one shard per master, whether that stays flat as shards are added is what says the queue
// grows with masters (docs/scaling.md).
struct ShardedResult {
  double jobs_per_s = 0;
  std::vector<double> redis_cpu_us_per_job;  // per shard
};

ShardedResult W2Sharded(RedisClusterProcesses& cluster, int n, int shards, int processes,
                        int concurrency) {
  cluster.FlushAll();
  const std::string queue = "hot";
  auto inspector = std::move(*Inspector::Open({cluster.url()}));
  if (Status s = inspector->SetShards(queue, shards); !s.ok()) {
    std::fprintf(stderr, "w2 sharded: %s\n", s.ToString().c_str());
    return {};
  }
  const std::string home_meta = "taskq:{" + queue + "}:meta";
  std::vector<std::string> tags = {queue};
  {
    std::istringstream stags(
        cluster.masters()[cluster.MasterOf(home_meta)]->Cli({"HGET", home_meta, "stags"}));
    for (std::string tag; stags >> tag;) tags.push_back(tag);
  }
  std::vector<int> master_of(tags.size());
  for (size_t i = 0; i < tags.size(); ++i) {
    master_of[i] = cluster.MasterOf("taskq:{" + tags[i] + "}:wait");
  }
  {
    auto client = Client::Open({cluster.url()});
    if (!client.ok() || !EnqueueAll(**client, Batch(n, queue))) return {};
  }
  const std::vector<double> cpu_before = cluster.MainThreadCpuSeconds();
  const double jobs_per_s =
      RunWorkersUntilDone(cluster.url(), {{queue, concurrency * shards}}, processes, n);
  const std::vector<double> cpu_after = cluster.MainThreadCpuSeconds();
  ShardedResult r;
  r.jobs_per_s = jobs_per_s;
  for (size_t i = 0; i < tags.size(); ++i) {
    const std::string meta = "taskq:{" + tags[i] + "}:meta";
    const double done =
        std::atof(cluster.masters()[master_of[i]]->Cli({"HGET", meta, "completed"}).c_str());
    const double cpu = cpu_after[master_of[i]] - cpu_before[master_of[i]];
    r.redis_cpu_us_per_job.push_back(done > 0 ? cpu * 1e6 / done : 0);
    std::fprintf(stderr,
                 "w2 sharded: %d shard(s), shard %zu (%s) on master %d: %.0f jobs, %.2f us "
                 "of redis cpu per job\n",
                 shards, i, tags[i].c_str(), master_of[i], done, r.redis_cpu_us_per_job.back());
  }
  return r;
}

struct Latencies {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  double achieved_rate = 0;
};

// Workers idle and waiting in this process; a producer enqueues at a steady `rate` for `seconds`
// (or `bulk_count` jobs in bulk when rate is 0). Each handler records start minus the due time
// (enqueue time + delay, both on this machine's clock). The handler only records a number, so it
// is registered run_inline unless `run_inline` is false (then it runs on a handler thread).
Latencies Latency(RedisProcess& redis, double rate, double seconds, int64_t delay_ms,
                  int bulk_count, bool run_inline) {
  Flush(redis);
  std::mutex mu;
  std::vector<double> samples;
  WorkerOptions options;
  options.redis_url = redis.url();
  options.queues = {{"email", 128}};
  Worker worker(options);
  worker.Register(
      "email",
      [&](JobContext& job) {
        double late_ms =
            static_cast<double>(NowUs() - TsOf(job.data_json()) - delay_ms * 1000) / 1e3;
        std::lock_guard lock(mu);
        samples.push_back(late_ms);
        return HandlerResult::Success();
      },
      HandlerOptions{run_inline});
  if (!worker.Start().ok()) return {};
  std::this_thread::sleep_for(milliseconds(300));  // idle and waiting
  auto client = OpenClient(redis);
  EnqueueOptions o;
  o.delay = milliseconds(delay_ms);
  int64_t sent = 0;
  const auto start = Clock::now();
  if (bulk_count > 0) {
    std::vector<EnqueueRequest> batch;
    for (int i = 0; i < bulk_count; ++i) batch.push_back({"email", Payload(NowUs()), o});
    EnqueueAll(*client, batch);
    sent = bulk_count;
  } else {
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    const int64_t total = static_cast<int64_t>(rate * seconds);
    for (; sent < total; ++sent) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                interval * static_cast<double>(sent)));
      if (!client->Enqueue({"email", Payload(NowUs()), o}).ok()) break;
    }
  }
  const double elapsed = Seconds(Clock::now() - start);
  const auto deadline = Clock::now() + std::chrono::seconds(30) + milliseconds(delay_ms);
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (static_cast<int64_t>(samples.size()) >= sent) break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  worker.Stop();
  std::lock_guard lock(mu);
  Latencies l;
  l.p50 = Percentile(samples, 0.50);
  l.p90 = Percentile(samples, 0.90);
  l.p99 = Percentile(samples, 0.99);
  l.max = samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end());
  l.achieved_rate = bulk_count > 0 ? 0 : static_cast<double>(sent) / elapsed;
  return l;
}

// Bytes of Redis memory per job: N waiting jobs (default options), then N completed jobs kept
// (enqueued with a retention that keeps them all, which the body then records).
std::pair<double, double> W4(RedisProcess& redis, int n) {
  Flush(redis);
  auto client = OpenClient(redis);
  long long before = redis.UsedMemory();
  if (!EnqueueAll(*client, Batch(n, "email"))) return {};
  const double waiting = static_cast<double>(redis.UsedMemory() - before) / n;
  Flush(redis);
  EnqueueOptions keep_all;
  keep_all.keep_completed = {-1, std::chrono::hours(24)};
  before = redis.UsedMemory();
  if (!EnqueueAll(*client, Batch(n, "email", keep_all))) return {};
  WorkerOptions options;
  options.redis_url = redis.url();
  options.queues = {{"email", 64}};
  Worker worker(options);
  worker.Register(
      "email", [](JobContext&) { return HandlerResult::Success(); },
      HandlerOptions{.run_inline = true});
  if (!worker.Start().ok()) return {};
  auto inspector = std::move(*Inspector::Open({redis.url()}));
  while (inspector->Counts("email")->completed < n) std::this_thread::sleep_for(milliseconds(10));
  worker.Stop();
  const double completed = static_cast<double>(redis.UsedMemory() - before) / n;
  return {waiting, completed};
}

// W7: idle workers wait in this process (one queue, 128 slots, the no-op handler inline, as
// W3's); a flow 3 levels deep with `width` children per parent, every job a no-op in that queue,
// is submitted with Client::SubmitFlow. Seconds from the submit to the root's completion, seen by
// reading the root alone (one small read every 5 ms, so the polling costs Redis next to nothing
// and adds at most 5 ms).
double W7(RedisProcess& redis, int width) {
  Flush(redis);
  WorkerOptions options;
  options.redis_url = redis.url();
  options.queues = {{"email", 128}};
  Worker worker(options);
  RegisterNoOp(worker, /*run_inline=*/true);
  if (!worker.Start().ok()) return 0;
  std::this_thread::sleep_for(milliseconds(300));  // idle and waiting
  auto client = OpenClient(redis);
  auto inspector = std::move(*Inspector::Open({redis.url()}));
  FlowRequest flow;
  flow.flow_id = "w7";
  auto add = [&](std::string ref, std::string parent) {
    flow.jobs.push_back({std::move(ref), std::move(parent), ChildFailurePolicy::kFail,
                         EnqueueRequest{"email", Payload(), {}}});
  };
  add("root", "");
  for (int i = 0; i < width; ++i) {
    const std::string parent = "p" + std::to_string(i);
    add(parent, "root");
    for (int j = 0; j < width; ++j) add(parent + "-" + std::to_string(j), parent);
  }
  const int jobs = static_cast<int>(flow.jobs.size());
  const CpuUse cpu(redis);
  const auto start = Clock::now();
  auto submitted = client->SubmitFlow(flow);
  if (!submitted.ok()) {
    std::fprintf(stderr, "w7: %s\n", submitted.status().ToString().c_str());
    worker.Stop();
    return 0;
  }
  const double submit_seconds = Seconds(Clock::now() - start);
  const std::string root = submitted->jobs.front().id;
  double elapsed = 0;
  const auto deadline = start + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    auto job = inspector->Find(root, "email");
    if (job.ok() && *job &&
        ((*job)->state == JobState::kCompleted || (*job)->state == JobState::kDead)) {
      elapsed = Seconds(Clock::now() - start);
      if ((*job)->state == JobState::kDead) {
        std::fprintf(stderr, "w7: the root went dead\n");
        elapsed = 0;
      }
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  worker.Stop();
  if (elapsed > 0) {
    cpu.Print("w7", jobs, elapsed);
    std::fprintf(stderr, "w7: %d jobs, submitted in %.3f s, root completed after %.3f s\n", jobs,
                 submit_seconds, elapsed);
  }
  return elapsed;
}

template <typename T>
T MedianOf(int runs, const std::function<T()>& run, const std::function<double(const T&)>& key) {
  std::vector<T> results;
  for (int i = 0; i < runs; ++i) results.push_back(run());
  std::sort(results.begin(), results.end(),
            [&](const T& a, const T& b) { return key(a) < key(b); });
  return results[results.size() / 2];
}

}  // namespace
}  // namespace taskq::bench

int main(int argc, char** argv) {
  using namespace taskq::bench;
  // W2's worker processes start their handler processes from this program (process isolation).
  if (taskq::IsHandlerProcess()) {
    taskq::Worker worker(taskq::WorkerOptions{});
    RegisterNoOp(worker, false);
    return worker.ServeHandlerProcess();
  }
  Config config;
  std::string only;  // --only w2: run that workload alone (for profiling); prints what it ran
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
      continue;
    }
    if (std::strcmp(argv[i], "--shape") == 0 && i + 2 < argc) {
      config.shape = {std::atoi(argv[i + 1]), std::atoi(argv[i + 2])};
      i += 2;
      continue;
    }
    if (std::strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
      config.rate_limit = std::atoll(argv[++i]);
      continue;
    }
    if (std::strcmp(argv[i], "--threaded") == 0) {
      config.threaded = true;
      continue;
    }
    if (std::strcmp(argv[i], "--process") == 0) {
      config.process = true;
      continue;
    }
    if (std::strcmp(argv[i], "--cluster") == 0) {
      config.cluster = true;
      continue;
    }
    if (std::strcmp(argv[i], "--sharded") == 0) {
      config.sharded = true;
      continue;
    }
    if (std::strcmp(argv[i], "--tls") == 0) {
      config.tls = true;
      continue;
    }
    if (std::strcmp(argv[i], "--quick") == 0) {
      config.quick = true;
      config.runs = 1;
      config.n = 20000;
      config.w3_seconds = 2;
      config.w5_jobs = 2000;
      config.w7_width = 30;
      continue;
    }
    // A mistyped flag must not start a full run of several minutes.
    std::fprintf(
        stderr,
        "usage: taskq_bench [--quick] [--only w1|w2|w3|w4|w5|w7_flow|w7_batch] [--shape PROCESSES "
        "CONCURRENCY] [--threaded|--process] [--rate PER_SECOND] [--tls] [--cluster|--sharded]\n"
        "unknown "
        "argument: "
        "%s\n",
        argv[i]);
    return 2;
  }
  std::map<std::string, double> report;
  const int runs = config.runs;
  const int n = config.n;
  if (only == "w1") {
    RedisProcess redis(false);
    const double rtt = RedisRttOpsPerSecond(redis);
    std::fprintf(stderr, "minimal enqueue script: %.0f ops/s (%.3f of LPUSH)\n",
                 MinimalScriptOpsPerSecond(redis), MinimalScriptOpsPerSecond(redis) / rtt);
    const double w1a = W1a(redis, n / 5);
    const double w1b = W1b(redis, n);
    std::printf(
        "{\"redis_rtt_ops_per_s\": %.0f, \"w1a_jobs_per_s\": %.0f, \"w1a_share\": %.3f, "
        "\"w1b_jobs_per_s\": %.0f}\n",
        rtt, w1a, w1a / rtt, w1b);
    std::fprintf(stderr, "%s", redis.Cli({"INFO", "commandstats"}).c_str());
    return 0;
  }
  if (only == "w3" || only == "w5") {
    RedisProcess redis(false);
    Latencies l = only == "w3"
                      ? Latency(redis, 500, config.w3_seconds, 0, 0, !config.threaded)
                      : Latency(redis, 1000, config.w5_jobs / 1000.0, 2000, 0, !config.threaded);
    std::printf("{\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}\n", l.p50, l.p90,
                l.p99, l.max);
    return 0;
  }
  if (only == "w4") {
    RedisProcess redis(false);
    auto [waiting, completed] = W4(redis, n);
    std::printf("{\"w4_bytes_per_waiting_job\": %.1f, \"w4_bytes_per_completed_job\": %.1f}\n",
                waiting, completed);
    return 0;
  }
  if (only == "w7_flow") {
    RedisProcess redis(false);
    const double seconds = W7(redis, config.w7_width);
    const int width = config.w7_width;
    std::printf("{\"w7_flow_seconds\": %.3f, \"w7_flow_jobs\": %d}\n", seconds,
                1 + width + width * width);
    return seconds > 0 ? 0 : 1;
  }
  if (only == "w2" && config.sharded) {
    RedisClusterProcesses cluster(3);
    if (!cluster.ok()) {
      std::fprintf(stderr, "cannot start a cluster of 3 redis-servers\n");
      return 1;
    }
    // 128 slots per shard and process, W2's batch on every shard.
    const std::pair<int, int> shape = config.shape.first > 0 ? config.shape : std::pair{2, 128};
    std::string rates = "[", cpus = "[";
    for (int shards = 1; shards <= 3; ++shards) {
      const ShardedResult r = W2Sharded(cluster, n, shards, shape.first, shape.second);
      rates += (shards > 1 ? ", " : "") + std::to_string(static_cast<int64_t>(r.jobs_per_s));
      cpus += shards > 1 ? ", [" : "[";
      for (size_t i = 0; i < r.redis_cpu_us_per_job.size(); ++i) {
        char one[32];
        std::snprintf(one, sizeof(one), "%s%.2f", i > 0 ? ", " : "", r.redis_cpu_us_per_job[i]);
        cpus += one;
      }
      cpus += "]";
    }
    std::printf(
        "{\"w2_sharded_jobs_per_s\": %s], "
        "\"w2_sharded_redis_cpu_us_per_job_per_shard\": %s]}\n",
        rates.c_str(), cpus.c_str());
    return 0;
  }
  if (only == "w2" && config.cluster) {
    RedisClusterProcesses cluster(3);
    if (!cluster.ok()) {
      std::fprintf(stderr, "cannot start a cluster of 3 redis-servers\n");
      return 1;
    }
    const std::pair<int, int> shape = config.shape.first > 0 ? config.shape : std::pair{2, 128};
    W2Result r = W2Cluster(cluster, n, shape.first, shape.second);
    std::printf("{\"w2_cluster_jobs_per_s\": %.0f, \"w2_cluster_redis_cpu_us_per_job\": %.2f}\n",
                r.jobs_per_s, r.redis_cpu_us_per_job);
    return 0;
  }
  if (only == "w2") {
    RedisProcess redis(false, config.tls);
    if (!redis.ok()) {
      std::fprintf(stderr, "cannot start redis-server%s\n", config.tls ? " with TLS" : "");
      return 1;
    }
    // Without --shape, the shape full runs usually find best (0 would start no worker and wait
    // for ever).
    const std::pair<int, int> shape = config.shape.first > 0 ? config.shape : std::pair{2, 128};
    const HandlerMode mode = config.process    ? HandlerMode::kProcess
                             : config.threaded ? HandlerMode::kThread
                                               : HandlerMode::kInline;
    W2Result r = W2(redis, n, shape.first, shape.second, mode, config.rate_limit);
    std::fprintf(stderr, "%s", redis.Cli({"INFO", "commandstats"}).c_str());
    std::fprintf(stderr, "w2: %.0f jobs/s, redis cpu %.2f us/job\n", r.jobs_per_s,
                 r.redis_cpu_us_per_job);
    std::printf(
        "{\"%s\": %.0f, \"w2_script_calls_per_job\": %.3f, "
        "\"w2_round_trips_per_job\": %.3f, \"w2_redis_cpu_us_per_job\": %.2f}\n",
        config.tls ? "w2_tls_jobs_per_s" : "w2_jobs_per_s", r.jobs_per_s, r.script_calls_per_job,
        r.round_trips_per_job, r.redis_cpu_us_per_job);
    return 0;
  }
  if (only == "w7_batch") {
    RedisProcess redis(false);
    if (!redis.ok()) {
      std::fprintf(stderr, "cannot start redis-server\n");
      return 1;
    }
    W7Report(redis, 1, config.shape.first > 0 ? config.shape : std::pair{2, 128}, report);
    std::printf(
        "{\"w7_batch_seconds\": %.3f, \"w7_w2_10k_seconds\": %.3f, \"w7_batch_share_of_w2\": "
        "%.3f, \"w7_batch_submit_seconds\": %.3f, \"w7_w2_10k_submit_seconds\": %.3f}\n",
        report["w7_batch_seconds"], report["w7_w2_10k_seconds"], report["w7_batch_share_of_w2"],
        report["w7_batch_submit_seconds"], report["w7_w2_10k_submit_seconds"]);
    return 0;
  }
  if (!only.empty()) {
    std::fprintf(stderr, "--only takes w1, w2, w3, w4, w5, w7_flow or w7_batch, not %s\n",
                 only.c_str());
    return 2;
  }
  {
    RedisProcess redis(false);
    if (!redis.ok()) {
      std::fprintf(stderr, "cannot start redis-server\n");
      return 1;
    }
    std::vector<double> rtt, w1a, floor;
    for (int i = 0; i < runs; ++i) {
      rtt.push_back(RedisRttOpsPerSecond(redis));
      floor.push_back(MinimalScriptOpsPerSecond(redis));
      w1a.push_back(W1a(redis, n));
    }
    report["redis_rtt_ops_per_s"] = Median(rtt);
    report["minimal_enqueue_script_ops_per_s"] = Median(floor);
    report["minimal_enqueue_script_share_of_rtt"] = Median(floor) / std::max(1.0, Median(rtt));
    report["w1a_jobs_per_s"] = Median(w1a);
    report["w1a_share_of_rtt"] = Median(w1a) / std::max(1.0, Median(rtt));
    std::vector<double> w1b;
    for (int i = 0; i < runs; ++i) w1b.push_back(W1b(redis, n));
    report["w1b_jobs_per_s"] = Median(w1b);

    // W2: sweep a few shapes once, then measure the best one `runs` times; both with the no-op
    // handler inline (the figure) and on handler threads (reported beside it).
    auto best_shape = [&](HandlerMode mode, const std::vector<std::pair<int, int>>& shapes) {
      std::pair<int, int> best = shapes[0];
      double best_rate = 0;
      for (const auto& shape : shapes) {
        W2Result r = W2(redis, n, shape.first, shape.second, mode);
        std::fprintf(stderr, "w2 %s %dx%d: %.0f jobs/s, redis cpu %.2f us/job\n", ModeName(mode),
                     shape.first, shape.second, r.jobs_per_s, r.redis_cpu_us_per_job);
        if (r.jobs_per_s > best_rate) {
          best_rate = r.jobs_per_s;
          best = shape;
        }
      }
      return best;
    };
    const auto best = best_shape(HandlerMode::kInline, {{1, 64}, {1, 256}, {2, 128}, {2, 256}});
    W2Result w2 = MedianOf<W2Result>(
        runs, [&] { return W2(redis, n, best.first, best.second, HandlerMode::kInline); },
        [](const W2Result& r) { return r.jobs_per_s; });
    report["w2_jobs_per_s"] = w2.jobs_per_s;
    report["w2_jobs_per_s_with_startup"] = w2.jobs_per_s_startup;
    report["w2_best_processes"] = best.first;
    report["w2_best_concurrency"] = best.second;
    report["w2_script_calls_per_job"] = w2.script_calls_per_job;
    report["w2_round_trips_per_job"] = w2.round_trips_per_job;
    // The same with a rate limit far above the load: what the limit's check costs.
    W2Result limited = MedianOf<W2Result>(
        runs,
        [&] { return W2(redis, n, best.first, best.second, HandlerMode::kInline, kFarAboveLoad); },
        [](const W2Result& r) { return r.jobs_per_s; });
    report["w2_ratelimited_jobs_per_s"] = limited.jobs_per_s;
    const auto best_threaded = best_shape(HandlerMode::kThread, {{1, 16}, {2, 16}, {2, 64}});
    W2Result threaded = MedianOf<W2Result>(
        runs,
        [&] {
          return W2(redis, n, best_threaded.first, best_threaded.second, HandlerMode::kThread);
        },
        [](const W2Result& r) { return r.jobs_per_s; });
    report["w2_threaded_jobs_per_s"] = threaded.jobs_per_s;
    report["w2_threaded_best_processes"] = best_threaded.first;
    report["w2_threaded_best_concurrency"] = best_threaded.second;
    // The same no-op handler in handler processes (process isolation), against the threads.
    const auto best_process = best_shape(HandlerMode::kProcess, {{1, 8}, {1, 16}, {2, 16}});
    W2Result process = MedianOf<W2Result>(
        runs,
        [&] {
          return W2(redis, n, best_process.first, best_process.second, HandlerMode::kProcess);
        },
        [](const W2Result& r) { return r.jobs_per_s; });
    report["w2_process_jobs_per_s"] = process.jobs_per_s;
    report["w2_process_best_processes"] = best_process.first;
    report["w2_process_best_concurrency"] = best_process.second;
    report["w2_process_share_of_threaded"] = process.jobs_per_s / threaded.jobs_per_s;
    // The same as W2 over TLS (rediss://) to a Redis of its own, at W2's best shape.
    {
      RedisProcess tls_redis(false, /*tls=*/true);
      if (tls_redis.ok()) {
        W2Result tls = MedianOf<W2Result>(
            runs, [&] { return W2(tls_redis, n, best.first, best.second, HandlerMode::kInline); },
            [](const W2Result& r) { return r.jobs_per_s; });
        report["w2_tls_jobs_per_s"] = tls.jobs_per_s;
        report["w2_tls_share_of_plain"] = tls.jobs_per_s / w2.jobs_per_s;
      }
    }
    // W2 on a cluster of 3 masters, one queue on each (each with W2's best shape), beside one
    // Redis' CPU per job.
    {
      RedisClusterProcesses cluster(3);
      if (cluster.ok()) {
        W2Result clustered = MedianOf<W2Result>(
            runs, [&] { return W2Cluster(cluster, n, best.first, best.second); },
            [](const W2Result& r) { return r.jobs_per_s; });
        report["w2_cluster_jobs_per_s"] = clustered.jobs_per_s;
        report["w2_cluster_redis_cpu_us_per_job"] = clustered.redis_cpu_us_per_job;
        report["w2_redis_cpu_us_per_job"] = w2.redis_cpu_us_per_job;
      }
    }

    auto by_p99 = [](const Latencies& l) { return l.p99; };
    Latencies w3 = MedianOf<Latencies>(
        runs, [&] { return Latency(redis, 500, config.w3_seconds, 0, 0, true); }, by_p99);
    report["w3_p50_ms"] = w3.p50;
    report["w3_p90_ms"] = w3.p90;
    report["w3_p99_ms"] = w3.p99;
    report["w3_max_ms"] = w3.max;
    Latencies w3fast = MedianOf<Latencies>(
        runs, [&] { return Latency(redis, 5000, config.w3_seconds, 0, 0, true); }, by_p99);
    report["w3_5000_p50_ms"] = w3fast.p50;
    report["w3_5000_p90_ms"] = w3fast.p90;
    report["w3_5000_p99_ms"] = w3fast.p99;
    report["w3_5000_max_ms"] = w3fast.max;
    report["w3_5000_producer_rate"] = w3fast.achieved_rate;
    Latencies w3threaded = MedianOf<Latencies>(
        runs, [&] { return Latency(redis, 500, config.w3_seconds, 0, 0, false); }, by_p99);
    report["w3_threaded_p50_ms"] = w3threaded.p50;
    report["w3_threaded_p99_ms"] = w3threaded.p99;

    auto [waiting, completed] = W4(redis, n);
    report["w4_bytes_per_waiting_job"] = waiting;
    report["w4_bytes_per_completed_job"] = completed;

    Latencies w5 = MedianOf<Latencies>(
        runs, [&] { return Latency(redis, 1000, config.w5_jobs / 1000.0, 2000, 0, true); }, by_p99);
    report["w5_p50_late_ms"] = w5.p50;
    report["w5_p99_late_ms"] = w5.p99;
    report["w5_max_late_ms"] = w5.max;
    Latencies w5b = MedianOf<Latencies>(
        runs, [&] { return Latency(redis, 0, 0, 2000, config.w5_jobs, true); }, by_p99);
    report["w5b_p50_late_ms"] = w5b.p50;
    report["w5b_p99_late_ms"] = w5b.p99;
    report["w5b_max_late_ms"] = w5b.max;

    std::vector<double> w7;
    for (int i = 0; i < runs; ++i) w7.push_back(W7(redis, config.w7_width));
    report["w7_flow_seconds"] = Median(w7);
    report["w7_flow_jobs"] = 1 + config.w7_width + config.w7_width * config.w7_width;

    // W7: a batch against the same jobs in one bulk, at W2's best shape.
    W7Report(redis, runs, best, report);
  }
  {
    RedisProcess redis(true);  // AOF everysec, for W1 and W2
    std::vector<double> w1b;
    for (int i = 0; i < runs; ++i) w1b.push_back(W1b(redis, n));
    report["aof_w1b_jobs_per_s"] = Median(w1b);
    report["aof_w1a_jobs_per_s"] = W1a(redis, n / 5);
    W2Result w2 = MedianOf<W2Result>(
        runs,
        [&] {
          return W2(redis, n, static_cast<int>(report["w2_best_processes"]),
                    static_cast<int>(report["w2_best_concurrency"]), HandlerMode::kInline);
        },
        [](const W2Result& r) { return r.jobs_per_s; });
    report["aof_w2_jobs_per_s"] = w2.jobs_per_s;
  }
  report["n"] = n;
  report["runs"] = runs;
  std::printf("{");
  bool first = true;
  for (const auto& [key, value] : report) {
    std::printf("%s\n  \"%s\": %.3f", first ? "" : ",", key.c_str(), value);
    first = false;
  }
  std::printf("\n}\n");
  return 0;
}
