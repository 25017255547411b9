// Process isolation against a real redis-server: handlers of a `:process` queue run in handler
// processes started from this test binary (isolation_main.cc serves as their main), and each
// misbehaviour of the "misbehave" type (tests/testing/misbehaving_handler.h) is checked for the
// job's outcome, the process's fate and the worker going on.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/sanitizers.h"
#include "integration/worker/worker_fixture.h"
#include "testing/misbehaving_handler.h"
#include "worker/handler_cgroup.h"

namespace taskq::testing {
namespace {
namespace json = boost::json;
using std::chrono::milliseconds;

class HandlerProcessTest : public WorkerTest {
 protected:
  WorkerOptions ProcessOptions(std::string queues = "q=2:process") {
    WorkerOptions o = Options(std::move(queues));
    o.handler_kill_grace = milliseconds(300);
    return o;
  }

  std::unique_ptr<Worker> StartWorker(const WorkerOptions& options) {
    auto worker = std::make_unique<Worker>(options);
    worker->Register("misbehave", Misbehave);
    const Status started = worker->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return worker;
  }

  // A "misbehave" job; by default one attempt, retried at once.
  std::string EnqueueMisbehave(const std::string& data, int32_t max_attempts = 1,
                               milliseconds timeout = milliseconds(0)) {
    EnqueueOptions o;
    o.max_attempts = max_attempts;
    o.backoff.delay = milliseconds(1);
    o.backoff.max_delay = milliseconds(1);
    o.timeout = timeout;
    return Enqueue(data, o, "misbehave");
  }

  // The job once it completed or went dead.
  Job Finished(const std::string& id) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto job = client_->Get("q", id);
          return job.ok() && job->has_value() &&
                 ((*job)->state == JobState::kCompleted || (*job)->state == JobState::kDead);
        },
        std::chrono::seconds(20)))
        << id;
    return GetJob(id);
  }

  static int64_t PidOf(const Job& job) {
    return json::parse(job.result_json).as_object().at("pid").as_int64();
  }

  static bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
};

TEST_F(HandlerProcessTest, JobsRunInAnotherProcessThatIsReusedAcrossJobs) {
  auto worker = StartWorker(ProcessOptions("q=1:process"));
  std::set<int64_t> pids;
  for (int i = 0; i < 5; ++i) {
    const Job job = Finished(EnqueueMisbehave(R"({"do":"pid"})"));
    ASSERT_EQ(job.state, JobState::kCompleted);
    pids.insert(PidOf(job));
  }
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_NE(*pids.begin(), ::getpid());
  worker->Stop();
  EXPECT_EQ(worker->stats().handler_processes_started, 1);
  EXPECT_EQ(worker->stats().completed, 5);
  errno = 0;
  EXPECT_EQ(::kill(static_cast<pid_t>(*pids.begin()), 0), -1) << "outlived the worker's Stop";
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(HandlerProcessTest, ProgressLogsDataAndResultsCrossTheProcessBoundary) {
  auto worker = StartWorker(ProcessOptions());
  const Job stepped = Finished(EnqueueMisbehave(R"({"do":"progress"})"));
  ASSERT_EQ(stepped.state, JobState::kCompleted);
  EXPECT_EQ(stepped.result_json, R"({"steps":3})");
  EXPECT_EQ(stepped.progress_json, "3");
  EXPECT_EQ(stepped.logs, (std::vector<std::string>{"step 1", "step 2", "step 3"}));
  const std::string data = R"({"do":"echo","text":"caf\u00e9 \"quoted\" \\ \n","n":[1,2.5,null]})";
  const Job echoed = Finished(EnqueueMisbehave(data));
  ASSERT_EQ(echoed.state, JobState::kCompleted);
  EXPECT_EQ(json::parse(echoed.result_json), json::parse(data));
  const Job thrown = Finished(EnqueueMisbehave(R"({"do":"throw"})"));
  ASSERT_EQ(thrown.state, JobState::kDead);
  ASSERT_EQ(thrown.errors.size(), 1u);
  EXPECT_EQ(thrown.errors[0].message, "handler threw: thrown on purpose");
}

// A segfault, an abort and an exit each end their own attempt only: the job retries and then
// goes dead as its policy says, other jobs complete, and a fresh process takes each one's place.
TEST_F(HandlerProcessTest, ACrashingHandlerFailsOnlyItsOwnAttempts) {
  auto worker = StartWorker(ProcessOptions());
  const std::string segv = EnqueueMisbehave(R"({"do":"segv"})", 2);
  const std::string abort = EnqueueMisbehave(R"({"do":"abort"})");
  const std::string exit = EnqueueMisbehave(R"({"do":"exit","code":7})");
  std::vector<std::string> fine;
  for (int i = 0; i < 6; ++i) fine.push_back(EnqueueMisbehave(R"({"do":"pid"})"));
  for (const std::string& id : fine) EXPECT_EQ(Finished(id).state, JobState::kCompleted) << id;

  const Job segfaulted = Finished(segv);
  ASSERT_EQ(segfaulted.state, JobState::kDead);
  ASSERT_EQ(segfaulted.errors.size(), 2u);  // both attempts
  for (const AttemptError& error : segfaulted.errors) {
    EXPECT_TRUE(Contains(error.message, "crashed: "));
    // AddressSanitizer reports the fault itself, then exits with status 1 or aborts (as
    // ASAN_OPTIONS says).
    if (!kAddressSanitizer) {
      EXPECT_TRUE(Contains(error.message, "killed by signal 11 (SIGSEGV)")) << error.message;
    }
  }
  const Job aborted = Finished(abort);
  ASSERT_EQ(aborted.state, JobState::kDead);
  EXPECT_TRUE(Contains(aborted.errors.at(0).message, "killed by signal 6 (SIGABRT)"))
      << aborted.errors.at(0).message;
  const Job exited = Finished(exit);
  ASSERT_EQ(exited.state, JobState::kDead);
  EXPECT_TRUE(Contains(exited.errors.at(0).message, "crashed: exited with status 7"))
      << exited.errors.at(0).message;

  // The worker still serves, from fresh processes.
  EXPECT_EQ(Finished(EnqueueMisbehave(R"({"do":"pid"})")).state, JobState::kCompleted);
  worker->Stop();
  EXPECT_EQ(worker->stats().handler_processes_crashed, 4);
  EXPECT_GT(worker->stats().handler_processes_started, 2);  // replacements
}

// The hard timeout: an attempt past its deadline plus the grace has its process stopped, fails
// as timed out, and its retry starts only after that process ended (the flock it held is free).
TEST_F(HandlerProcessTest, AnAttemptPastItsDeadlineIsStoppedBeforeItsRetryStarts) {
  auto worker = StartWorker(ProcessOptions());
  const std::string lock = ::testing::TempDir() + "taskq-overlap-" + std::to_string(::getpid());
  const std::string id = EnqueueMisbehave(R"({"do":"sleep","ms":60000,"lock":")" + lock + R"("})",
                                          2, milliseconds(300));
  const Job job = Finished(id);
  ASSERT_EQ(job.state, JobState::kDead);
  ASSERT_EQ(job.errors.size(), 2u);
  for (const AttemptError& error : job.errors) {
    EXPECT_TRUE(Contains(error.message, "timed out after 300 ms")) << error.message;
    EXPECT_TRUE(Contains(error.message, "stopped 300 ms after the attempt's deadline"))
        << error.message;
  }
  std::vector<pid_t> pids;
  for (const std::string& line : job.logs) {
    if (line.starts_with("pid ")) pids.push_back(std::stoi(line.substr(4)));
  }
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_NE(pids[0], pids[1]);
  EXPECT_TRUE(std::any_of(job.logs.begin(), job.logs.end(), [](const std::string& line) {
    return Contains(line, "its process is stopped 300 ms after the deadline unless it returns");
  }));
  for (pid_t pid : pids) {
    errno = 0;
    EXPECT_EQ(::kill(pid, 0), -1) << "process " << pid << " still runs";
    EXPECT_EQ(errno, ESRCH);
  }
  worker->Stop();
  EXPECT_EQ(worker->stats().handler_processes_timed_out, 2);
  ::unlink(lock.c_str());
}

// At shutdown a running job is handed back only once its process has been stopped, so the
// next worker's attempt never overlaps it (the flock it held is free).
TEST_F(HandlerProcessTest, AtShutdownAJobGoesBackOnlyOnceItsProcessIsStopped) {
  const std::string lock = ::testing::TempDir() + "taskq-handback-" + std::to_string(::getpid());
  const std::string id =
      EnqueueMisbehave(R"({"do":"sleep","ms":60000,"lock":")" + lock + R"("})", 2);
  auto pids_of = [&] {
    std::vector<pid_t> pids;
    for (const std::string& line : GetJob(id).logs) {
      if (line.starts_with("pid ")) pids.push_back(std::stoi(line.substr(4)));
    }
    return pids;
  };
  auto first = StartWorker(ProcessOptions());
  ASSERT_TRUE(WaitUntil([&] { return pids_of().size() == 1; }));
  const pid_t old = pids_of()[0];
  first->Stop();  // the grace (2 s) passes, then the handler is stopped, then the lease goes back
  errno = 0;
  EXPECT_EQ(::kill(old, 0), -1) << "process " << old << " outlived its worker's Stop";
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(GetJob(id).state, JobState::kWaiting);
  auto second = StartWorker(ProcessOptions());
  ASSERT_TRUE(WaitUntil([&] { return pids_of().size() == 2; }));
  const Job job = GetJob(id);
  EXPECT_EQ(job.state, JobState::kActive);  // not failed with "overlap"
  EXPECT_TRUE(job.errors.empty()) << job.errors[0].message;
  second->Stop();
  ::unlink(lock.c_str());
}

TEST_F(HandlerProcessTest, CancellingARunningJobStopsItsProcess) {
  auto worker = StartWorker(ProcessOptions());
  const std::string id = EnqueueMisbehave(R"({"do":"sleep","ms":60000})", 3);
  ASSERT_TRUE(WaitUntil([&] { return !GetJob(id).logs.empty(); }));  // it runs
  ASSERT_TRUE(client_->Cancel("q", id).ok());
  const Job job = Finished(id);
  ASSERT_EQ(job.state, JobState::kDead);
  ASSERT_EQ(job.errors.size(), 1u);
  EXPECT_TRUE(Contains(job.errors[0].message, "cancelled: handler process"))
      << job.errors[0].message;
  EXPECT_TRUE(Contains(job.errors[0].message, "300 ms after the stop request"))
      << job.errors[0].message;
  EXPECT_EQ(Finished(EnqueueMisbehave(R"({"do":"pid"})")).state, JobState::kCompleted);
  worker->Stop();
  EXPECT_EQ(worker->stats().handler_processes_stopped, 1);
}

TEST_F(HandlerProcessTest, AHandlerPastTheMemoryCapFailsWithAClearMessage) {
  if (kAddressSanitizer) {
    GTEST_SKIP() << "no memory cap under AddressSanitizer: its shadow memory does not fit one";
  }
  WorkerOptions options = ProcessOptions();
  options.handler_memory_limit_mb = 256;
  options.handler_cgroup = "off";  // RLIMIT_DATA, which every machine offers
  auto worker = StartWorker(options);
  const Job hog = Finished(EnqueueMisbehave(R"({"do":"alloc","mb":1024})"));
  ASSERT_EQ(hog.state, JobState::kDead);
  ASSERT_EQ(hog.errors.size(), 1u);
  EXPECT_EQ(hog.errors[0].message, "memory limit exceeded: the handler process may use 256 MiB");
  const Job modest = Finished(EnqueueMisbehave(R"({"do":"alloc","mb":32})"));
  EXPECT_EQ(modest.state, JobState::kCompleted);
  EXPECT_EQ(modest.result_json, R"({"allocated_mb":32})");
  worker->Stop();
  EXPECT_EQ(worker->stats().handler_processes_out_of_memory, 1);
}

TEST_F(HandlerProcessTest, UnderACgroupTheKernelEnforcesTheCapAsMemoryMax) {
  // The cgroup the test runs in, when it may create cgroups with the memory controller there
  // (a delegated cgroup v2); machines with the memory controller on cgroup v1 cannot.
  auto parent = worker::DelegatedCgroupOfThisProcess();
  if (!parent.ok()) GTEST_SKIP() << "no cgroup v2 memory.max here: " << parent.status().message();
  WorkerOptions options = ProcessOptions();
  options.handler_memory_limit_mb = 128;
  options.handler_cgroup = *parent;
  auto worker = StartWorker(options);
  const Job hog = Finished(EnqueueMisbehave(R"({"do":"alloc","mb":512})"));
  ASSERT_EQ(hog.state, JobState::kDead);
  ASSERT_EQ(hog.errors.size(), 1u);
  EXPECT_TRUE(hog.errors[0].message.starts_with(
      "memory limit exceeded: the handler process may use 128 MiB (cgroup memory.max"))
      << hog.errors[0].message;
  EXPECT_EQ(Finished(EnqueueMisbehave(R"({"do":"alloc","mb":32})")).state, JobState::kCompleted);
  worker->Stop();
  EXPECT_EQ(worker->stats().handler_processes_out_of_memory, 1);
}

TEST_F(HandlerProcessTest, ACgroupThatCannotBeUsedFailsStartWithTheReason) {
  WorkerOptions options = ProcessOptions();
  options.handler_memory_limit_mb = 128;
  options.handler_cgroup = "/proc/taskq-no-such-cgroup";
  Worker worker(options);
  worker.Register("misbehave", Misbehave);
  const Status started = worker.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(Contains(started.message(), "/proc/taskq-no-such-cgroup is not a cgroup v2"))
      << started.ToString();
  options.handler_cgroup = "relative/path";
  EXPECT_EQ(Worker(options).Start().code(), StatusCode::kInvalidArgument);
}

TEST_F(HandlerProcessTest, AProgramThatCannotServeFailsStartWithTheReason) {
  WorkerOptions options = ProcessOptions();
  options.handler_command = {"/bin/true"};
  Worker worker(options);
  worker.Register("misbehave", Misbehave);
  const Status started = worker.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(Contains(started.message(), "did not start")) << started.ToString();
  EXPECT_TRUE(Contains(started.message(), "exited with status 0")) << started.ToString();
  EXPECT_TRUE(Contains(started.message(), "taskq::IsHandlerProcess()")) << started.ToString();
}

TEST_F(HandlerProcessTest, ThreadQueuesOfTheSameWorkerKeepRunningInItsOwnProcess) {
  auto worker = StartWorker(ProcessOptions("q=1:process,t=1"));
  EnqueueOptions o;
  o.queue = "t";
  auto enqueued = client_->Enqueue({"misbehave", R"({"do":"pid"})", o});
  ASSERT_TRUE(enqueued.ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto job = client_->Get("t", enqueued->id);
    return job.ok() && job->has_value() && (*job)->state == JobState::kCompleted;
  }));
  EXPECT_EQ(PidOf(**client_->Get("t", enqueued->id)), ::getpid());
  EXPECT_NE(PidOf(Finished(EnqueueMisbehave(R"({"do":"pid"})"))), ::getpid());
}

}  // namespace
}  // namespace taskq::testing
