// The producer and operator APIs (Client, Inspector) against a real redis-server.
#include <thread>

#include "integration/worker/worker_fixture.h"

namespace taskq::testing {
namespace {
using std::chrono::milliseconds;
using ClientTest = WorkerTest;

int64_t KeyCount(RedisServer& server) { return server.Run({"DBSIZE"}).view().integer(); }

TEST_F(ClientTest, EnqueueByExistingIdReturnsTheExistingJobAndChangesNothing) {
  EnqueueOptions o;
  o.queue = "q";
  o.job_id = "order-42";
  auto first = client_->Enqueue({"t", R"({"v":1})", o});
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->id, "order-42");
  EXPECT_EQ(first->state, JobState::kWaiting);
  o.priority = 7;
  auto again = client_->Enqueue({"t", R"({"v":2})", o});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->id, "order-42");
  Job job = GetJob("order-42");
  EXPECT_EQ(job.data_json, R"({"v":1})");
  EXPECT_EQ(job.options.priority, 0);
  EXPECT_EQ(inspector_->Counts("q")->waiting, 1);
}

TEST_F(ClientTest, BadInputIsRejectedNamingTheFieldAndNothingIsWritten) {
  struct Case {
    EnqueueRequest request;
    std::string field;
  };
  EnqueueOptions bad_queue;
  bad_queue.queue = "emails{x}";
  EnqueueOptions colon_queue;
  colon_queue.queue = "a:b";
  const std::vector<Case> cases = {
      {{"t", R"({"x":)", {}}, "data"},                                          // invalid JSON
      {{"t", "[1,2]", {}}, "data"},                                             // not an object
      {{"t", "{\"x\":\"" + std::string(600 * 1024, 'a') + "\"}", {}}, "data"},  // too big
      {{"t", "{}", bad_queue}, "queue"},  // hash tag characters
      {{"t", "{}", colon_queue}, "queue"},
      {{"bad type", "{}", {}}, "type"},
  };
  for (const Case& c : cases) {
    auto result = client_->Enqueue(c.request);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().field(), c.field) << result.status().ToString();
    EXPECT_FALSE(result.status().message().empty());
  }
  EXPECT_EQ(KeyCount(*server_), 0);
}

TEST_F(ClientTest, UniqueJobWithDerivedKeyReturnsTheHolderUntilItCompletes) {
  EnqueueOptions o;
  o.queue = "q";
  o.unique.emplace();  // key from type and data
  auto first = client_->Enqueue({"t", R"({"to":"a@b.c"})", o});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(first->unique_hit);
  // The key is the documented digest (printf 't\0{"to":"a@b.c"}' | sha256sum), kept on the job.
  Job job = GetJob(first->id);
  ASSERT_TRUE(job.options.unique.has_value());
  EXPECT_EQ(job.options.unique->key,
            "c034fd01d48601fd038dc93cfc499d00137d127e485fb62e9e4ced7a02dc44a9");
  EXPECT_EQ(job.options.unique->mode, UniqueOptions::Mode::kUntilCompleted);

  auto again = client_->Enqueue({"t", R"({"to":"a@b.c"})", o});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_TRUE(again->unique_hit);
  EXPECT_EQ(again->id, first->id);
  auto other = client_->Enqueue({"t", R"({"to":"x@y.z"})", o});  // other data: another key
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->created);
  EXPECT_EQ(inspector_->Counts("q")->waiting, 2);

  Worker worker(Options());
  worker.Register("t", [](JobContext&) { return HandlerResult::Success(); });
  ASSERT_TRUE(worker.Start().ok());
  ASSERT_TRUE(WaitForState(first->id, JobState::kCompleted));
  worker.Stop();
  auto after = client_->Enqueue({"t", R"({"to":"a@b.c"})", o});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->created);  // the holder completed: the key is free
  EXPECT_NE(after->id, first->id);
}

TEST_F(ClientTest, DebounceReplacesTheDelayedJobAndTtlOutlivesTheJob) {
  EnqueueOptions o;
  o.queue = "q";
  o.delay = milliseconds(60000);
  o.unique = UniqueOptions{"user-7-digest", UniqueOptions::Mode::kDebounce, milliseconds(0)};
  auto first = client_->Enqueue({"t", R"({"n":1})", o});
  o.delay = milliseconds(120000);
  auto second = client_->Enqueue({"t", R"({"n":2})", o});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(second->created);
  EXPECT_EQ(second->state, JobState::kDelayed);
  auto gone = client_->Get("q", first->id);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());  // replaced
  Job job = GetJob(second->id);
  EXPECT_EQ(job.data_json, R"({"n":2})");
  EXPECT_GE(job.due_ms, job.created_ms + 120000);

  EnqueueOptions ttl;
  ttl.queue = "q";
  ttl.unique = UniqueOptions{"report", UniqueOptions::Mode::kTtl, milliseconds(60000)};
  auto held = client_->Enqueue({"t", "{}", ttl});
  ASSERT_TRUE(held.ok());
  auto cancelled = client_->Cancel("q", held->id);
  ASSERT_TRUE(cancelled.ok());
  ASSERT_EQ(*cancelled, RemoveOutcome::kRemoved);
  auto blocked = client_->Enqueue({"t", "{}", ttl});
  ASSERT_TRUE(blocked.ok());
  EXPECT_TRUE(blocked->unique_hit);  // for the TTL, whatever happened to the job
  EXPECT_EQ(blocked->id, held->id);
}

TEST_F(ClientTest, BadUniqueOptionsAreRejectedNamingTheField) {
  struct Case {
    UniqueOptions unique;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{std::string(257, 'k'), UniqueOptions::Mode::kUntilCompleted, milliseconds(0)},
       "unique.key"},
      {{"a\nb", UniqueOptions::Mode::kUntilCompleted, milliseconds(0)}, "unique.key"},
      {{"k", UniqueOptions::Mode::kTtl, milliseconds(0)}, "unique.ttl_ms"},
      {{"k", UniqueOptions::Mode::kTtl, kMaxUniqueTtl + milliseconds(1)}, "unique.ttl_ms"},
      {{"k", UniqueOptions::Mode::kDebounce, milliseconds(5)}, "unique.ttl_ms"},
  };
  for (const Case& c : cases) {
    EnqueueOptions o;
    o.queue = "q";
    o.unique = c.unique;
    auto result = client_->Enqueue({"t", "{}", o});
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.status().field(), c.field) << result.status().ToString();
  }
  EXPECT_EQ(KeyCount(*server_), 0);
}

TEST_F(ClientTest, BulkValidatesEveryJobBeforeWritingAny) {
  std::vector<EnqueueRequest> batch(5, EnqueueRequest{"t", "{}", {}});
  batch[3].data_json = "{oops";
  auto result = client_->EnqueueBulk(batch);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().field(), "jobs[3].data");
  EXPECT_EQ(KeyCount(*server_), 0);

  ClientOptions small;
  small.redis_url = server_->url();
  small.max_bulk = 3;
  auto limited = std::move(*Client::Open(small));
  auto too_many = limited->EnqueueBulk(std::vector<EnqueueRequest>(4, {"t", "{}", {}}));
  EXPECT_EQ(too_many.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(KeyCount(*server_), 0);
}

// Regression: a bulk beyond what Lua can unpack at once (~8000 values) failed with "too many
// results to unpack"; enqueue.lua now sends long lists in parts, within its one call.
TEST_F(ClientTest, BulkOfTenThousandJobsIsEnqueuedWhole) {
  std::vector<EnqueueRequest> batch(10000, EnqueueRequest{"t", "{}", {}});
  for (size_t i = 0; i < batch.size(); ++i) batch[i].options.job_id = "j" + std::to_string(i);
  batch[1500].options.job_id = "j10";  // a repeated id: created once, then it existed
  batch[9999].options.priority = 3;
  auto results = client_->EnqueueBulk(batch);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), batch.size());
  EXPECT_TRUE((*results)[0].created);
  EXPECT_FALSE((*results)[1500].created);
  EXPECT_EQ((*results)[1500].id, "j10");
  EXPECT_TRUE((*results)[9999].created);
  EXPECT_EQ((*results)[9999].id, "j9999");
  EXPECT_EQ(inspector_->Counts("t")->waiting, 9999);
}

// A single plain job goes by enqueue_one.lua, which hands a queue that groups by a data field
// back to enqueue.lua: the job still lands in its group.
TEST_F(ClientTest, SinglePlainJobInAQueueGroupedByAFieldJoinsItsGroup) {
  QueueLimits limits;
  limits.group_field = "tenant";
  ASSERT_TRUE(inspector_->SetLimits("t", limits).ok());
  auto created = client_->Enqueue({"t", R"({"tenant":"acme"})", {}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->created);
  auto members = server_->Run({"ZRANGE", "taskq:{t}:gw:acme", "0", "-1"});
  ASSERT_EQ(members.view().size(), 1u);
  EXPECT_EQ(members.view()[0].str(), created->id);
  EXPECT_EQ(server_->Run({"LLEN", "taskq:{t}:wait"}).view().integer(), 0);
  auto again = client_->Enqueue({"t", R"({"tenant":"acme"})", {.job_id = created->id}});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);  // idempotent by id on that path too
  auto second = client_->Enqueue({"t", R"({"tenant":"acme"})", {}});  // straight to enqueue.lua
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(server_->Run({"ZCARD", "taskq:{t}:gw:acme"}).view().integer(), 2);
}

// The same for a queue with priority aging: its single plain job is scored by time in prio.
TEST_F(ClientTest, SinglePlainJobInAnAgingQueueIsScoredByTime) {
  QueueLimits limits;
  limits.priority_aging = milliseconds(1000);
  ASSERT_TRUE(inspector_->SetLimits("t", limits).ok());
  auto created = client_->Enqueue({"t", "{}", {}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(server_->Run({"LLEN", "taskq:{t}:wait"}).view().integer(), 0);
  auto score = server_->Run({"ZSCORE", "taskq:{t}:prio", created->id});
  ASSERT_TRUE(score.view().is_string());
  EXPECT_GT(std::stod(std::string(score.view().str())), 1.7e12);  // Redis ms: the time it joined
}

// Regression: a queue whose waiting jobs were all grouped reported no oldest waiting job.
TEST_F(ClientTest, CountsFindTheOldestWaitingJobAmongGroupedJobs) {
  EnqueueRequest request{"t", "{}", {}};
  request.options.group = "tenant-a";
  ASSERT_TRUE(client_->Enqueue(request).ok());
  std::this_thread::sleep_for(milliseconds(20));
  request.options.group = "tenant-b";
  ASSERT_TRUE(client_->Enqueue(request).ok());
  auto counts = inspector_->Counts("t");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->waiting, 2);
  ASSERT_GT(counts->oldest_waiting_created_ms, 0);
  EXPECT_GE(counts->now_ms - counts->oldest_waiting_created_ms, 20);  // the first one's age
}

TEST_F(ClientTest, BulkAcrossQueuesReturnsResultsInRequestOrder) {
  std::vector<EnqueueRequest> batch = {{"a", "{}", {}}, {"b", "{}", {}}, {"a", "{}", {}}};
  batch[1].options.delay = milliseconds(60000);
  auto results = client_->EnqueueBulk(batch);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ((*results)[0].queue, "a");
  EXPECT_EQ((*results)[1].queue, "b");
  EXPECT_EQ((*results)[1].state, JobState::kDelayed);
  EXPECT_EQ((*results)[2].queue, "a");
  EXPECT_NE((*results)[0].id, (*results)[2].id);
  EXPECT_EQ(inspector_->Counts("a")->waiting, 2);
  EXPECT_EQ(inspector_->Counts("b")->delayed, 1);
  auto queues = inspector_->Queues();
  ASSERT_TRUE(queues.ok());
  EXPECT_EQ(*queues, (std::vector<std::string>{"a", "b"}));
}

// EnqueueBatches streams batches (two in flight): every job lands once, in request order within
// its queue, and the results line up with the requests across batches and queues.
TEST_F(ClientTest, BatchesEnqueueEveryJobInOrderAcrossQueues) {
  std::vector<EnqueueRequest> requests;
  for (int i = 0; i < 2500; ++i) {
    EnqueueRequest r{i % 5 == 0 ? "b" : "a", R"({"n":)" + std::to_string(i) + "}", {}};
    if (i == 2499) r.options.delay = milliseconds(60000);
    requests.push_back(std::move(r));
  }
  requests[1201].options.job_id = "fixed";
  requests[2101].options.job_id = "fixed";  // in a later batch: it existed by then
  auto results = client_->EnqueueBatches(requests, 1000);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), requests.size());
  EXPECT_TRUE((*results)[1201].created);
  EXPECT_FALSE((*results)[2101].created);
  EXPECT_EQ((*results)[2101].id, "fixed");
  EXPECT_EQ((*results)[2499].state, JobState::kDelayed);
  EXPECT_EQ((*results)[5].queue, "b");
  // 2000 requests for a: one repeats an id, one is delayed.
  EXPECT_EQ(inspector_->Counts("a")->waiting, 1998);
  EXPECT_EQ(inspector_->Counts("a")->delayed, 1);
  EXPECT_EQ(inspector_->Counts("b")->waiting, 500);
  // The wait list of a holds the results' ids in request order.
  auto wait = server_->Run({"LRANGE", "taskq:{a}:wait", "0", "-1"});
  std::vector<std::string> expected;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].type == "a" && i != 2101 && i != 2499) expected.push_back((*results)[i].id);
  }
  ASSERT_EQ(wait.view().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(wait.view()[i].str(), expected[i]) << i;

  auto bad_size = client_->EnqueueBatches(requests, kMaxBulkJobs + 1);
  EXPECT_EQ(bad_size.status().field(), "batch_size");
}

// Regression: a queue first met in a late batch was registered (SADD) on the connection while a
// batch was in flight, and read that batch's reply.
TEST_F(ClientTest, BatchesWithAQueueFirstMetInALateBatch) {
  std::vector<EnqueueRequest> requests;
  for (const char* queue : {"a", "a", "b", "c"}) {
    for (int i = 0; i < 100; ++i) requests.push_back({queue, "{}", {}});
  }
  auto results = client_->EnqueueBatches(requests, 100);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  for (const char* queue : {"b", "c"}) EXPECT_EQ(inspector_->Counts(queue)->waiting, 100);
  EXPECT_EQ(inspector_->Counts("a")->waiting, 200);
  auto queues = inspector_->Queues();
  ASSERT_TRUE(queues.ok());
  EXPECT_EQ(*queues, (std::vector<std::string>{"a", "b", "c"}));
  auto none = client_->EnqueueBatches({}, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A bad job stops the call at its batch: the batches before it are in, nothing from its batch or
// later was sent, and the error names the job by its place in the whole call.
TEST_F(ClientTest, BatchesStopAtTheBatchWithABadJob) {
  std::vector<EnqueueRequest> requests(3000, EnqueueRequest{"t", "{}", {}});
  requests[1500].data_json = "{oops";
  auto result = client_->EnqueueBatches(requests, 1000);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().field(), "jobs[1500].data");
  EXPECT_NE(result.status().message().find("jobs 1000..1999"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(inspector_->Counts("t")->waiting, 1000);
}

// Redis refuses a batch (its queue's wait key holds a string): the batch before it is in, the one
// after it was already sent (two are in flight) and ran, the last was never sent. The client
// then works on: the reply owed for the batch in flight must not answer its next call.
TEST_F(ClientTest, BatchesStopWhereRedisRefusesOneAndTheClientWorksOn) {
  server_->Run({"SET", "taskq:{broken}:wait", "not a list"});
  std::vector<EnqueueRequest> requests;
  for (const char* queue : {"a", "broken", "a", "a"}) {
    for (int i = 0; i < 100; ++i) requests.push_back({queue, "{}", {}});
  }
  auto result = client_->EnqueueBatches(requests, 100);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("WRONGTYPE"), std::string::npos)
      << result.status().message();
  EXPECT_NE(result.status().message().find("jobs 100..199"), std::string::npos);
  EXPECT_EQ(result.status().field(), "jobs[100]");
  EXPECT_EQ(inspector_->Counts("a")->waiting, 200);  // batches 1 and 3

  for (const char* queue : {"a", "c"}) {
    auto created = client_->Enqueue({queue, "{}", {.job_id = "after"}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_TRUE(created->created) << queue;
    auto again = client_->Enqueue({queue, "{}", {.job_id = "after"}});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_FALSE(again->created) << queue;
    auto job = client_->Get(queue, "after");
    ASSERT_TRUE(job.ok() && job->has_value()) << queue;
    EXPECT_EQ((*job)->id, "after");
  }
  EXPECT_EQ(inspector_->Counts("a")->waiting, 201);
}

TEST_F(ClientTest, GetReportsMissingJobsAndCancelRemovesWaitingOnes) {
  auto missing = client_->Get("q", "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  std::string id = Enqueue();
  EXPECT_EQ(*client_->Cancel("q", id), RemoveOutcome::kRemoved);
  EXPECT_FALSE(client_->Get("q", id)->has_value());
  EXPECT_EQ(*client_->Cancel("q", id), RemoveOutcome::kNotFound);
  // Only the queue registry, its event stream and its meta hash (the enqueued counter).
  EXPECT_EQ(KeyCount(*server_), 3);
}

TEST_F(ClientTest, ListPagesWaitingJobsInRunOrder) {
  std::vector<std::string> ids;
  for (int priority : {3, 0, -1, 0, 3}) {
    EnqueueOptions o;
    o.priority = priority;
    ids.push_back(Enqueue("{}", o));
  }
  const std::vector<std::string> run_order = {ids[2], ids[1], ids[3], ids[0], ids[4]};
  std::vector<std::string> paged;
  for (int offset = 0; offset < 5; offset += 2) {
    auto page = inspector_->List("q", JobState::kWaiting, offset, 2);
    ASSERT_TRUE(page.ok());
    for (const Job& job : *page) paged.push_back(job.id);
  }
  EXPECT_EQ(paged, run_order);
  EXPECT_EQ(inspector_->List("q", JobState::kWaiting, 0, 0).status().field(), "limit");
}

TEST_F(ClientTest, ListReversedPagesWaitingJobsLastToRunFirst) {
  std::vector<std::string> ids;
  for (int priority : {3, 0, -1, 0, 3}) {
    EnqueueOptions o;
    o.priority = priority;
    ids.push_back(Enqueue("{}", o));
  }
  EnqueueOptions grouped;
  grouped.group = "acme";
  ids.push_back(Enqueue("{}", grouped));
  const std::vector<std::string> reversed = {ids[5], ids[4], ids[0], ids[3], ids[1], ids[2]};
  for (int64_t size : {1, 2, 4, 6}) {
    std::vector<std::string> paged;
    for (int64_t offset = 0; offset < 6; offset += size) {
      auto page = inspector_->List("q", JobState::kWaiting, offset, size, ListOrder::kReversed);
      ASSERT_TRUE(page.ok());
      for (const Job& job : *page) paged.push_back(job.id);
    }
    EXPECT_EQ(paged, reversed) << "page size " << size;
  }
}

TEST_F(ClientTest, ScanReadsInChunksUpToItsBoundAndSaysWhereToGoOn) {
  std::vector<EnqueueRequest> requests;
  for (int i = 0; i < 1200; ++i) {
    EnqueueOptions o;
    o.queue = "q";
    char id[8];
    std::snprintf(id, sizeof id, "j%04d", i);
    o.job_id = id;
    requests.push_back({i % 100 == 7 ? "odd" : "t", "{\"i\":" + std::to_string(i) + "}", o});
  }
  ASSERT_TRUE(client_->EnqueueBulk(requests).ok());
  JobFilter odd;
  odd.type = "odd";
  // Over two chunks (500 each) and into the third: 1200 jobs, 12 matches.
  auto all = inspector_->Scan("q", JobState::kWaiting, odd, {}, 50000, 1000);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->jobs.size(), 12u);
  EXPECT_EQ(all->scanned, 1200);
  EXPECT_TRUE(all->at_end);
  // The bound: 600 examined, 6 matches, not at the end.
  auto part = inspector_->Scan("q", JobState::kWaiting, odd, {}, 600, 1000);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->jobs.size(), 6u);
  EXPECT_EQ(part->scanned, 600);
  EXPECT_FALSE(part->at_end);
  // The limit: stops right after the second match (j0107), the cursor continues there.
  auto two = inspector_->Scan("q", JobState::kWaiting, odd, {}, 50000, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->jobs.back().id, "j0107");
  EXPECT_EQ(two->scanned, 108);
  EXPECT_EQ(two->next.offset, 108);
  auto next = inspector_->Scan("q", JobState::kWaiting, odd, two->next, 50000, 1);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->jobs.front().id, "j0207");
  // Reversed, with a data field.
  JobFilter field;
  field.field = {"i"};
  field.value = "1198";
  auto back = inspector_->Scan("q", JobState::kWaiting, field, {}, 10, 5, ListOrder::kReversed);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->jobs.size(), 1u);
  EXPECT_EQ(back->jobs[0].id, "j1198");
  EXPECT_EQ(back->scanned, 10);
  EXPECT_EQ(inspector_->Scan("q", JobState::kWaiting, odd, {}, 0, 5).status().field(), "scan");
  EXPECT_EQ(inspector_->Scan("q", JobState::kWaiting, odd, {}, 50001, 5).status().field(), "scan");
}

// Jobs that join or leave a sorted-set state between pages shift nothing: every job that stays
// is listed exactly once, and jobs sharing a score page in id order.
TEST_F(ClientTest, KeyedPagesOfASortedStateSurviveJobsComingAndGoing) {
  const int64_t base_ms = 4102444800000;  // 2100-01-01: delayed throughout the test
  auto delayed = [&](const std::string& id, int64_t at_ms) {
    EnqueueOptions o;
    o.job_id = id;
    o.run_at_ms = at_ms;
    return Enqueue("{}", o);
  };
  // Scores 0..4 (offsets from base_ms); b, c and d tie at 2.
  for (const auto& [id, at] : std::vector<std::pair<std::string, int64_t>>{
           {"a", 0}, {"c", 2}, {"b", 2}, {"d", 2}, {"e", 3}, {"f", 4}}) {
    delayed(id, base_ms + at);
  }
  for (const ListOrder order : {ListOrder::kDefault, ListOrder::kReversed}) {
    std::vector<std::string> seen;
    JobCursor cursor;
    auto page = inspector_->Page("q", JobState::kDelayed, cursor, 2, order);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const Job& job : page->jobs) seen.push_back(job.id);
    // Forward the first page is a, b; reversed f, e. Now: the last job listed goes, a job joins
    // before the cursor (it must not shift the rest), and one joins after it, tying with c.
    ASSERT_TRUE(inspector_->Remove("q", seen.back()).ok());
    delayed(order == ListOrder::kDefault ? "0early" : "zlate",
            base_ms + (order == ListOrder::kDefault ? -1 : 9));
    delayed("bb", base_ms + 2);
    while (!page->at_end) {
      page = inspector_->Page("q", JobState::kDelayed, page->next, 2, order);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const Job& job : page->jobs) seen.push_back(job.id);
    }
    const std::vector<std::string> expected =
        order == ListOrder::kDefault ? std::vector<std::string>{"a", "b", "bb", "c", "d", "e", "f"}
                                     : std::vector<std::string>{"f", "e", "d", "c", "bb", "b", "a"};
    EXPECT_EQ(seen, expected) << (order == ListOrder::kDefault ? "forward" : "reversed");
    // Put the state back as it began for the other order.
    for (const std::string id : {"0early", "zlate", "bb"}) (void)inspector_->Remove("q", id);
    delayed(order == ListOrder::kDefault ? "b" : "e",
            base_ms + (order == ListOrder::kDefault ? 2 : 3));
  }
  // A filtered scan resumes after the last job it examined, by key too.
  JobFilter all;
  all.type = "t";
  auto first = inspector_->Scan("q", JobState::kDelayed, all, {}, 3, 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->scanned, 3);
  EXPECT_TRUE(first->next.keyed());
  EXPECT_EQ(first->next.after_id, "c");
  ASSERT_TRUE(inspector_->Remove("q", "a").ok());  // before the cursor: shifts nothing
  auto rest = inspector_->Scan("q", JobState::kDelayed, all, first->next, 50000, 1000);
  ASSERT_TRUE(rest.ok());
  std::vector<std::string> ids;
  for (const Job& job : rest->jobs) ids.push_back(job.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"d", "e", "f"}));
  EXPECT_TRUE(rest->at_end);
  // The waiting state pages by offset and refuses a key.
  EXPECT_EQ(inspector_->Page("q", JobState::kWaiting, first->next, 5).status().field(), "cursor");
}

TEST_F(ClientTest, InspectorRetriesPromotesRemovesAndCleans) {
  Worker worker(Options());
  worker.Register("t", [](JobContext& job) {
    return job.data_json() == R"({"fail":true})" ? HandlerResult::Fail("no")
                                                 : HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  std::string dead = Enqueue(R"({"fail":true})");
  std::string done = Enqueue("{}");
  EnqueueOptions later;
  later.delay = std::chrono::hours(1);
  std::string delayed = Enqueue("{}", later);
  ASSERT_TRUE(WaitForState(dead, JobState::kDead));
  ASSERT_TRUE(WaitForState(done, JobState::kCompleted));
  EXPECT_EQ(GetJob(delayed).state, JobState::kDelayed);

  EXPECT_TRUE(*inspector_->Promote("q", delayed));
  EXPECT_TRUE(WaitForState(delayed, JobState::kCompleted));
  EXPECT_FALSE(*inspector_->Promote("q", delayed));  // not delayed any more

  EXPECT_EQ(*inspector_->RetryDead("q", {}), 1);
  EXPECT_TRUE(WaitForState(dead, JobState::kDead));  // fails again, permanently
  EXPECT_EQ(GetJob(dead).errors.size(), 2u);         // history kept across the retry
  worker.Stop();

  EXPECT_EQ(*inspector_->Clean("q", JobState::kCompleted, milliseconds(0)), 2);
  EXPECT_FALSE(client_->Get("q", done)->has_value());
  EXPECT_EQ(*inspector_->Remove("q", dead), RemoveOutcome::kRemoved);
  EXPECT_EQ(inspector_->Counts("q")->dead, 0);
  EXPECT_EQ(inspector_->Clean("q", JobState::kWaiting, milliseconds(0)).status().field(), "state");
}

}  // namespace
}  // namespace taskq::testing
