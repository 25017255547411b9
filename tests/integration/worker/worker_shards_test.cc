// Sharded queues on one Redis (every shard's tag takes salt 0 there): producers place jobs on
// every shard, workers claim from every shard, and the queue reads as one.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/keys.h"
#include "common/shard_placement.h"
#include "common/text_list.h"
#include "worker_fixture.h"

namespace taskq::testing {
namespace {

class WorkerShardsTest : public WorkerTest {
 protected:
  // The tags of q's shards, as its home shard records them.
  std::vector<std::string> Tags() {
    auto connection = server_->Connect();
    auto stags = connection->Run(broker::Command{"HGET", "taskq:{q}:meta", "stags"});
    std::vector<std::string> out = {"q"};
    if (stags.ok() && stags->view().is_string()) {
      for (std::string_view tag : SplitList(stags->view().str(), ' ')) out.emplace_back(tag);
    }
    return out;
  }

  // A counter of one shard's meta (0 when absent).
  int64_t ShardMeta(const std::string& tag, const std::string& field) {
    auto connection = server_->Connect();
    auto reply =
        connection->Run(broker::Command{"HGET", broker::QueueKeys("taskq", tag).meta(), field});
    return reply.ok() && reply->view().is_string() ? std::stoll(std::string(reply->view().str()))
                                                   : 0;
  }

  int64_t ShardWaiting(const std::string& tag) {
    auto connection = server_->Connect();
    auto reply = connection->Run(broker::Command{"LLEN", broker::QueueKeys("taskq", tag).wait()});
    return reply.ok() ? reply->view().AsInt() : -1;
  }

  int64_t Completed() {
    auto counts = inspector_->Counts("q");
    return counts.ok() ? counts->completed : -1;
  }
};

TEST_F(WorkerShardsTest, ASpreadQueueRunsEveryJobFromEveryShardAndCountsAsOne) {
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  EXPECT_EQ(*inspector_->Shards("q"), 3);
  const std::vector<std::string> tags = Tags();
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_TRUE(tags[1].starts_with("q#1.")) << tags[1];
  EXPECT_TRUE(tags[2].starts_with("q#2.")) << tags[2];

  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(Enqueue("{\"i\":" + std::to_string(i) + "}"));
  std::vector<int64_t> before_bulk;
  for (const std::string& tag : tags) before_bulk.push_back(ShardWaiting(tag));
  std::vector<EnqueueRequest> bulk;
  for (int i = 0; i < 270; ++i) bulk.push_back({"t", "{}", EnqueueOptions{.queue = "q"}});
  auto created = client_->EnqueueBulk(bulk);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  for (const EnqueueResult& r : *created) {
    EXPECT_TRUE(r.created);
    ids.push_back(r.id);
  }
  int64_t waiting = 0;
  for (size_t s = 0; s < tags.size(); ++s) {
    // The producer knows the layout by now: its generated ids go round robin, exactly.
    EXPECT_EQ(ShardWaiting(tags[s]) - before_bulk[s], 90) << tags[s];
    waiting += ShardWaiting(tags[s]);
  }
  EXPECT_EQ(waiting, 300);
  EXPECT_EQ(inspector_->Counts("q")->waiting, 300);

  std::mutex mu;
  std::set<std::string> ran;
  std::set<std::string> queues_seen;
  Worker worker(Options("q=6"));
  worker.Register("t", [&](JobContext& job) {
    std::lock_guard lock(mu);
    ran.insert(job.id());
    queues_seen.insert(job.queue());
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 300; })) << Completed();
  worker.Stop();
  EXPECT_EQ(ran.size(), 300u);
  EXPECT_EQ(queues_seen, std::set<std::string>{"q"});
  for (const std::string& tag : tags) EXPECT_GT(ShardMeta(tag, "completed"), 40) << tag;
  auto counts = inspector_->Counts("q");
  EXPECT_EQ(counts->completed_total, 300);
  EXPECT_EQ(counts->enqueued_total, 300);
  EXPECT_EQ(counts->waiting + counts->active, 0);
  // A job is found by id on whichever shard holds it.
  for (const std::string& id : ids) {
    auto job = client_->Get("q", id);
    ASSERT_TRUE(job.ok() && job->has_value()) << id;
    EXPECT_EQ((*job)->state, JobState::kCompleted) << id;
    EXPECT_EQ((*job)->queue, "q");
  }
}

// The shards' loops share the queue's slots: one busy shard uses all of them while the others
// are idle, and a shard whose jobs arrive later is served while the busy one still has a
// backlog.
TEST_F(WorkerShardsTest, ABusyShardUsesEverySlotAndAnotherShardIsNotStarved) {
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  auto on_shard = [&](int32_t shard, int i) {
    EnqueueOptions o;
    o.queue = "q";
    o.job_id = NewJobIdOnShard(shard, 3);
    return Enqueue("{\"shard\":" + std::to_string(shard) + ",\"i\":" + std::to_string(i) + "}", o);
  };
  for (int i = 0; i < 120; ++i) on_shard(0, i);
  std::atomic<int> running{0}, most{0}, shard0_done{0};
  std::atomic<int> shard0_done_when_shard2_done{-1};
  std::atomic<int> shard2_done{0};
  Worker worker(Options("q=3"));
  worker.Register("t", [&](JobContext& job) {
    const int now = ++running;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    --running;
    if (job.data_json().find("\"shard\":2") != std::string::npos) {
      if (++shard2_done == 6) shard0_done_when_shard2_done = shard0_done.load();
    } else {
      ++shard0_done;
    }
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return shard0_done >= 20; }));
  EXPECT_EQ(most.load(), 3);  // a fixed split would have run one at a time
  for (int i = 0; i < 6; ++i) on_shard(2, i);
  int64_t most_active = 0;  // claimed in Redis: the handler threads alone would hide extra claims
  ASSERT_TRUE(WaitUntil([&] {
    auto counts = inspector_->Counts("q");
    if (counts.ok()) most_active = std::max(most_active, counts->active);
    return counts.ok() && counts->completed == 126;
  })) << Completed();
  worker.Stop();
  EXPECT_EQ(most.load(), 3);
  // Never more claimed than the queue's slots, whatever the shards (one loop per shard with the
  // queue's concurrency would claim 6). The counts read the shards one after the other, so a
  // job finishing on one while another starts on the next may be counted twice: 4.
  EXPECT_LE(most_active, 4);
  // Shard 2's six jobs finished while shard 0 still had most of its backlog.
  EXPECT_GE(shard0_done_when_shard2_done.load(), 20);
  EXPECT_LT(shard0_done_when_shard2_done.load(), 80);
}

TEST_F(WorkerShardsTest, ARunningWorkerTakesUpNewShardsAndAnOldProducerPlacesAgain) {
  Enqueue();  // the client now knows q as never sharded
  std::atomic<int> ran{0};
  Worker worker(Options("q=4"));
  worker.Register("t", [&](JobContext&) {
    ++ran;
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 1; }));
  // A change needs no job kept at all: a completed one's id could be taken again elsewhere.
  EXPECT_EQ(inspector_->SetShards("q", 3).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(inspector_->Clean("q", JobState::kCompleted, std::chrono::milliseconds(0)).ok());
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  // The client still holds the layout of one shard: every shard refuses it, and it places the
  // jobs again by the layout it reads then.
  for (int i = 0; i < 60; ++i) Enqueue();
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 60; })) << Completed();  // 1 cleaned
  worker.Stop();
  EXPECT_EQ(ran.load(), 61);
  for (const std::string& tag : Tags()) EXPECT_GT(ShardMeta(tag, "completed"), 5) << tag;
}

TEST_F(WorkerShardsTest, AChangeIsRefusedWhileJobsAreThereAndLeavesTheQueueWorking) {
  const std::string id = Enqueue();
  Status refused = inspector_->SetShards("q", 3);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("NOTEMPTY waiting 1"), std::string::npos) << refused.ToString();
  EXPECT_EQ(*inspector_->Shards("q"), 1);
  // Every shard was put back at a newer version: producers, old and new, still enqueue.
  auto fresh = Client::Open({server_->url()});
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE((*fresh)->Enqueue({"t", "{}", EnqueueOptions{.queue = "q"}}).ok());
  Enqueue();
  EXPECT_EQ(inspector_->Counts("q")->waiting, 3);
  EXPECT_EQ(GetJob(id).state, JobState::kWaiting);
}

TEST_F(WorkerShardsTest, LimitsAreSplitIntoSharesAndNoGroupGoesWithAUniqueKey) {
  QueueLimits limits;
  limits.concurrency = 5;
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  Status refused = inspector_->SetShards("q", 2);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("SETTINGS cc"), std::string::npos) << refused.ToString();
  ASSERT_TRUE(inspector_->SetLimits("q", QueueLimits{}).ok());
  ASSERT_TRUE(inspector_->SetShards("q", 2).ok());
  limits.rate = RateLimit{7, std::chrono::milliseconds(2000)};
  limits.max_length = 11;
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  // Shares that add up to each limit, the remainder on the first shards; read back as one.
  const std::vector<std::string> tags = Tags();
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(ShardMeta(tags[0], "cc"), 3);
  EXPECT_EQ(ShardMeta(tags[1], "cc"), 2);
  EXPECT_EQ(ShardMeta(tags[0], "ml"), 6);
  EXPECT_EQ(ShardMeta(tags[1], "ml"), 5);
  auto read = inspector_->Limits("q");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->concurrency, 5);
  EXPECT_EQ(read->rate.max, 7);
  EXPECT_EQ(read->rate.window, std::chrono::milliseconds(2000));
  EXPECT_EQ(read->max_length, 11);
  // A limit below the shard count would leave a shard nothing; a group field cannot place.
  limits = QueueLimits{};
  limits.concurrency = 1;
  Status small = inspector_->SetLimits("q", limits);
  EXPECT_EQ(small.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(small.field(), "concurrency");
  limits = QueueLimits{};
  limits.group_field = "tenant";
  EXPECT_EQ(inspector_->SetLimits("q", limits).field(), "group.field");
  EXPECT_EQ(inspector_->Limits("q")->concurrency, 5);  // unchanged by the refusals

  // A unique key lives on one shard: the second job with the key finds the first.
  EnqueueOptions unique;
  unique.queue = "q";
  unique.unique = UniqueOptions{};
  unique.unique->key = "k1";
  auto first = client_->Enqueue({"t", "{}", unique});
  auto second = client_->Enqueue({"t", "{}", unique});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->created);
  EXPECT_TRUE(second->unique_hit);
  EXPECT_EQ(second->id, first->id);

  EnqueueOptions both = unique;
  both.group = "g";
  auto refused_job = client_->Enqueue({"t", "{}", both});
  EXPECT_EQ(refused_job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused_job.status().field(), "unique");
}

// Separate jobs sent together (the API's group commit) are answered one by one: a shard without
// room fails only its own jobs, and the other shard's are enqueued.
TEST_F(WorkerShardsTest, EnqueueEachFailsOnlyTheJobsOfTheShardThatRefused) {
  ASSERT_TRUE(inspector_->SetShards("q", 2).ok());
  QueueLimits limits;
  limits.max_length = 4;  // shares of 2 and 2
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  const std::vector<std::string> tags = Tags();
  ASSERT_EQ(tags.size(), 2u);
  for (int i = 0; i < 2; ++i) {  // shard 1 full
    EnqueueOptions on_shard_1{.queue = "q"};
    on_shard_1.job_id = NewJobIdOnShard(1, 2);
    ASSERT_TRUE(client_->Enqueue({"t", "{}", on_shard_1}).ok());
  }
  ASSERT_EQ(ShardWaiting(tags[1]), 2);
  std::vector<EnqueueRequest> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back({"t", "{}", EnqueueOptions{.queue = "q"}});
  auto each = client_->EnqueueEach(jobs);
  ASSERT_TRUE(each.ok()) << each.status().ToString();
  ASSERT_EQ(each->size(), 4u);
  int created = 0, full = 0;
  for (const Result<EnqueueResult>& result : *each) {
    if (result.ok()) {
      EXPECT_TRUE(result->created);
      auto job = client_->Get("q", result->id);
      EXPECT_TRUE(job.ok() && job->has_value()) << result->id;
      ++created;
    } else {
      EXPECT_EQ(result.status().code(), StatusCode::kQueueFull) << result.status().ToString();
      ++full;
    }
  }
  // Round robin puts two on each shard: shard 0 takes both, shard 1 refuses both.
  EXPECT_EQ(created, 2);
  EXPECT_EQ(full, 2);
  EXPECT_EQ(ShardWaiting(tags[0]), 2);
  EXPECT_EQ(ShardWaiting(tags[1]), 2);
  // The same jobs as one bulk are all or nothing per shard, and the call fails.
  EXPECT_EQ(client_->EnqueueBulk(jobs).status().code(), StatusCode::kQueueFull);
}

// Actions by id find the job on whichever shard holds it; retries of dead jobs reach every
// shard.
TEST_F(WorkerShardsTest, ActionsOnJobsReachTheShardThatHoldsThem) {
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  const std::vector<std::string> tags = Tags();
  EnqueueOptions later;
  later.queue = "q";
  later.delay = std::chrono::hours(1);
  std::vector<std::string> delayed;
  for (int i = 0; i < 12; ++i) delayed.push_back(Enqueue("{}", later));
  for (int i = 0; i < 6; ++i) {
    auto promoted = inspector_->Promote("q", delayed[i]);
    ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
    EXPECT_TRUE(*promoted) << delayed[i];
    EXPECT_EQ(GetJob(delayed[i]).state, JobState::kWaiting);
  }
  for (int i = 6; i < 12; ++i) {
    auto removed = inspector_->Remove("q", delayed[i]);
    ASSERT_TRUE(removed.ok()) << removed.status().ToString();
    EXPECT_EQ(*removed, RemoveOutcome::kRemoved) << delayed[i];
    auto job = client_->Get("q", delayed[i]);
    ASSERT_TRUE(job.ok());
    EXPECT_FALSE(job->has_value());
  }
  EXPECT_EQ(*inspector_->Remove("q", "no-such-job"), RemoveOutcome::kNotFound);
  auto counts = inspector_->Counts("q");
  EXPECT_EQ(counts->waiting, 6);
  EXPECT_EQ(counts->delayed, 0);

  // Jobs that fail once go dead on their shards; retried by id, then all at once.
  EnqueueOptions once;
  once.queue = "q";
  once.max_attempts = 1;
  std::vector<std::string> failing;
  for (int i = 0; i < 30; ++i) failing.push_back(Enqueue("{\"fail\":true}", once));
  std::atomic<bool> fail{true};
  Worker worker(Options("q=3"));
  worker.Register("t", [&](JobContext& job) {
    if (fail && job.data_json().find("fail") != std::string::npos) return HandlerResult::Fail("no");
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return inspector_->Counts("q")->dead == 30; }));
  for (const std::string& tag : tags) EXPECT_GT(ShardMeta(tag, "dead"), 0) << tag;
  fail = false;
  const std::vector<std::string> some(failing.begin(), failing.begin() + 10);
  EXPECT_EQ(*inspector_->RetryDead("q", some), 10);
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 16; })) << Completed();
  EXPECT_EQ(*inspector_->RetryDead("q", {}), 20);
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 36; })) << Completed();
  worker.Stop();
  EXPECT_EQ(inspector_->Counts("q")->dead, 0);
}

// Listings and live events read every shard: pages of a sorted state merge the shards in the
// state's order, with cursors that resume in all of them; waiting jobs list shard by shard.
TEST_F(WorkerShardsTest, ListingsAndEventsCoverEveryShard) {
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  std::vector<EventCursor> cursors = {{"q", ""}};
  ASSERT_TRUE(inspector_->WaitEvents(cursors, std::chrono::milliseconds(0)).ok());
  std::vector<std::string> delayed;
  for (int i = 0; i < 30; ++i) {
    EnqueueOptions later;
    later.queue = "q";
    later.delay = std::chrono::hours(1) + std::chrono::milliseconds(i * 10);
    delayed.push_back(Enqueue("{}", later));
  }
  std::set<std::string> waiting;
  for (int i = 0; i < 25; ++i) waiting.insert(Enqueue());

  std::vector<std::string> listed;
  int64_t last_due = 0;
  JobCursor from;
  for (int page = 0; page < 10; ++page) {
    auto got = inspector_->Page("q", JobState::kDelayed, from, 7);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const Job& job : got->jobs) {
      EXPECT_GE(job.due_ms, last_due) << job.id;  // due order across the shards
      last_due = job.due_ms;
      listed.push_back(job.id);
    }
    from = got->next;
    if (got->at_end) break;
  }
  EXPECT_EQ(listed, delayed);  // enqueued 10 ms apart: due in enqueue order, each once

  std::set<std::string> listed_waiting;
  for (int64_t offset = 0; offset < 40; offset += 8) {
    auto got = inspector_->Page("q", JobState::kWaiting, JobCursor::AtOffset(offset), 8);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const Job& job : got->jobs) EXPECT_TRUE(listed_waiting.insert(job.id).second) << job.id;
  }
  EXPECT_EQ(listed_waiting, waiting);

  int64_t enqueued_ids = 0;
  ASSERT_TRUE(WaitUntil([&] {
    auto events = inspector_->WaitEvents(cursors, std::chrono::milliseconds(100));
    if (!events.ok()) return false;
    for (const JobEvent& e : *events) {
      EXPECT_EQ(e.queue, "q");
      if (e.kind == "enqueued") enqueued_ids += static_cast<int64_t>(e.job_ids.size());
    }
    return enqueued_ids >= 55;
  }));
  EXPECT_EQ(enqueued_ids, 55);
  EXPECT_EQ(std::count(cursors[0].last_id.begin(), cursors[0].last_id.end(), ','), 2)
      << cursors[0].last_id;
}

// The history's samples are taken on every shard and summed per bucket.
TEST_F(WorkerShardsTest, TheHistoryCountsEveryShard) {
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  WorkerOptions options = Options("q=4");
  options.history_bucket = std::chrono::seconds(1);
  Worker worker(options);
  worker.Register("t", [](JobContext&) { return HandlerResult::Success(); });
  ASSERT_TRUE(worker.Start().ok());
  for (int i = 0; i < 30; ++i) Enqueue();
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 30; }));
  int64_t processed = 0, enqueued = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto history = inspector_->History("q", std::chrono::minutes(1));
        if (!history.ok()) return false;
        processed = enqueued = 0;
        for (const QueueHistoryRow& row : history->rows) {
          processed += row.processed.value_or(0);
          enqueued += row.enqueued.value_or(0);
        }
        return processed == 30;
      },
      std::chrono::seconds(8)))
      << processed;
  worker.Stop();
  EXPECT_EQ(enqueued, 30);
}

// WorkerOptions::queue_shards spreads a queue at start; a queue with jobs waiting keeps its
// layout and the worker starts anyway.
TEST_F(WorkerShardsTest, AWorkerSpreadsItsQueuesAtStartOrKeepsTheirShards) {
  Enqueue("{}", EnqueueOptions{.queue = "busy"});
  WorkerOptions options = Options("q=2,busy=1");
  options.queue_shards = *ParseQueueShards("q=3,busy=2");
  Worker worker(options);
  worker.Register("t", [](JobContext&) { return HandlerResult::Success(); });
  ASSERT_TRUE(worker.Start().ok());
  EXPECT_EQ(*inspector_->Shards("q"), 3);
  EXPECT_EQ(*inspector_->Shards("busy"), 1);
  for (int i = 0; i < 12; ++i) Enqueue();
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 12; }));
  worker.Stop();
}

// A concurrency limit holds for the queue as a whole: never more jobs active over all shards.
TEST_F(WorkerShardsTest, AConcurrencyLimitHoldsOverAllShards) {
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  QueueLimits limits;
  limits.concurrency = 4;
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  for (int i = 0; i < 45; ++i) Enqueue();
  std::atomic<int> running{0}, most{0};
  Worker worker(Options("q=12"));
  worker.Register("t", [&](JobContext&) {
    const int now = ++running;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --running;
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  int64_t most_active = 0;
  ASSERT_TRUE(WaitUntil([&] {
    auto counts = inspector_->Counts("q");
    if (counts.ok()) most_active = std::max(most_active, counts->active);
    return counts.ok() && counts->completed == 45;
  })) << Completed();
  worker.Stop();
  EXPECT_LE(most.load(), 4);  // handlers running at once: exact
  EXPECT_GE(most.load(), 3);  // the shares were used at once
  EXPECT_LE(most_active, 5);  // the shards read one after the other: one job may count twice
}

// The shares follow the work: with every job on one shard, the workers move the idle shards'
// concurrency to it (keeping one slot each), and the queue as a whole never exceeds its limit.
// A balance cut short between its give and its take leaves slots no shard holds; the next one
// hands them out.
TEST_F(WorkerShardsTest, AConcurrencyLimitFollowsTheWorkFromShardToShard) {
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  QueueLimits limits;
  limits.concurrency = 6;  // shares of 2, 2 and 2
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  const std::vector<std::string> tags = Tags();
  ASSERT_EQ(tags.size(), 3u);
  // A balance that lowered shard 1's share and died before raising another: 5 of 6 shared.
  {
    auto connection = server_->Connect();
    const std::string meta_1 = broker::QueueKeys("taskq", tags[1]).meta();
    ASSERT_TRUE(connection->Run(broker::Command{"HSET", meta_1, "cc", "1"}).ok());
  }
  for (int i = 0; i < 30; ++i) {
    EnqueueOptions on_shard_0{.queue = "q"};
    on_shard_0.job_id = NewJobIdOnShard(0, 3);
    ASSERT_TRUE(client_->Enqueue({"t", "{}", on_shard_0}).ok());
  }
  std::atomic<int> running{0}, most{0};
  std::atomic<bool> release{false};
  Worker worker(Options("q=12"));
  worker.Register("t", [&](JobContext&) {
    const int now = ++running;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --running;
    return HandlerResult::Success();
  });
  // Declared after the worker: a failed assertion lets the handlers end before it stops.
  struct ReleaseOnExit {
    std::atomic<bool>& flag;
    ~ReleaseOnExit() { flag = true; }
  } release_on_exit{release};
  ASSERT_TRUE(worker.Start().ok());
  // 6 less one slot for each idle shard, the slot the cut-short balance freed included.
  ASSERT_TRUE(WaitUntil([&] { return running.load() == 4; })) << running.load();
  EXPECT_EQ(ShardMeta(tags[0], "cc"), 4);
  EXPECT_EQ(ShardMeta(tags[1], "cc"), 1);
  EXPECT_EQ(ShardMeta(tags[2], "cc"), 1);
  EXPECT_EQ(inspector_->Limits("q")->concurrency, 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // three more balances
  EXPECT_EQ(running.load(), 4);
  // The same limit set again keeps the balanced shares: an even split would let the idle shards
  // start 2 each while shard 0 still runs 4.
  ASSERT_TRUE(inspector_->SetLimits("q", limits).ok());
  EXPECT_EQ(ShardMeta(tags[0], "cc"), 4);
  EXPECT_EQ(ShardMeta(tags[1], "cc") + ShardMeta(tags[2], "cc"), 2);
  release = true;
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 30; })) << Completed();
  worker.Stop();
  EXPECT_EQ(most.load(), 4);  // never above the limit's reach: 6 less the two idle shards' one
  int64_t shares = 0;
  for (const std::string& tag : tags) shares += ShardMeta(tag, "cc");
  EXPECT_EQ(shares, 6);
}

// An import whose batches go to a queue sharded since the client last wrote to it: the batches
// refused for their layout are placed again, whatever their place in the pipeline.
TEST_F(WorkerShardsTest, AnImportPlacesAgainTheBatchesOfAQueueShardedMeanwhile) {
  // The client knows q as never sharded; the job is gone before the change.
  ASSERT_EQ(*inspector_->Remove("q", Enqueue()), RemoveOutcome::kRemoved);
  Enqueue("{}", EnqueueOptions{.queue = "plain"});
  ASSERT_TRUE(inspector_->SetShards("q", 3).ok());
  std::vector<EnqueueRequest> requests;
  for (const char* queue : {"plain", "q", "q", "plain", "q"}) {
    for (int i = 0; i < 10; ++i) requests.push_back({"t", "{}", EnqueueOptions{.queue = queue}});
  }
  auto imported = client_->EnqueueBatches(requests, 10);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  for (const EnqueueResult& r : *imported) EXPECT_TRUE(r.created) << r.id;
  EXPECT_EQ(inspector_->Counts("q")->waiting, 30);
  EXPECT_EQ(inspector_->Counts("plain")->waiting, 21);
  for (const std::string& tag : Tags()) EXPECT_GT(ShardWaiting(tag), 3) << tag;
}

// Two changes at once: whichever succeeds is the layout that stays (the other's undoing touches
// only what it wrote), every shard of it agrees on its version, and producers go on.
TEST_F(WorkerShardsTest, ConcurrentChangesLeaveOneConsistentLayout) {
  auto other = Inspector::Open({server_->url()});
  ASSERT_TRUE(other.ok());
  auto connection = server_->Connect();
  for (int round = 0; round < 40; ++round) {
    const std::string queue = "race" + std::to_string(round);
    Status a, b;
    std::thread first([&] { a = inspector_->SetShards(queue, 2); });
    std::thread second([&] { b = (*other)->SetShards(queue, 3); });
    first.join();
    second.join();
    const int32_t shards = *inspector_->Shards(queue);
    const int32_t expected = a.ok() && !b.ok()    ? 2
                             : b.ok() && !a.ok()  ? 3
                             : !a.ok() && !b.ok() ? 1
                                                  : shards;  // both: either one, the later
    EXPECT_EQ(shards, expected) << round << ": " << a.ToString() << " / " << b.ToString();
    EXPECT_TRUE(shards == 2 || shards == 3 || (!a.ok() && !b.ok())) << round;
    const broker::QueueKeys home("taskq", queue);
    auto stags = connection->Run(broker::Command{"HMGET", home.meta(), "sv", "stags"});
    ASSERT_TRUE(stags.ok());
    const std::string version(stags->view()[0].str());
    std::vector<std::string> tags = {queue};
    if (stags->view()[1].is_string()) {
      for (std::string_view tag : SplitList(stags->view()[1].str(), ' ')) tags.emplace_back(tag);
    }
    ASSERT_EQ(static_cast<int32_t>(tags.size()), shards);
    for (const std::string& tag : tags) {
      auto sv =
          connection->Run(broker::Command{"HGET", broker::QueueKeys("taskq", tag).meta(), "sv"});
      EXPECT_EQ(std::string(sv->view().str()), version) << round << " " << tag;
    }
    auto created = client_->Enqueue({"t", "{}", EnqueueOptions{.queue = queue}});
    EXPECT_TRUE(created.ok()) << round << " " << created.status().ToString();
  }
}

TEST_F(WorkerShardsTest, AShardLeavesOnlyWhenItHoldsNoJobAtAll) {
  ASSERT_TRUE(inspector_->SetShards("q", 2).ok());
  const std::vector<std::string> tags = Tags();
  ASSERT_EQ(tags.size(), 2u);
  Worker worker(Options("q=2"));
  worker.Register("t", [&](JobContext&) { return HandlerResult::Success(); });
  ASSERT_TRUE(worker.Start().ok());
  for (int i = 0; i < 20; ++i) Enqueue();
  ASSERT_TRUE(WaitUntil([&] { return Completed() == 20; }));
  worker.Stop();
  ASSERT_GT(ShardMeta(tags[1], "completed"), 0);
  // Completed jobs kept on shard 1 would be out of sight once it leaves.
  Status refused = inspector_->SetShards("q", 1);
  EXPECT_NE(refused.message().find("NOTEMPTY jobs"), std::string::npos) << refused.ToString();
  EXPECT_EQ(*inspector_->Shards("q"), 2);
  ASSERT_TRUE(inspector_->Clean("q", JobState::kCompleted, std::chrono::milliseconds(0)).ok());
  EXPECT_TRUE(inspector_->SetShards("q", 1).ok());
  EXPECT_EQ(*inspector_->Shards("q"), 1);
  EXPECT_TRUE(client_->Enqueue({"t", "{}", EnqueueOptions{.queue = "q"}}).ok());
  EXPECT_EQ(ShardWaiting("q"), 1);
}

}  // namespace
}  // namespace taskq::testing
