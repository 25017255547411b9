#include "worker/outbox.h"

#include <gtest/gtest.h>

#include <chrono>

namespace taskq::worker {
namespace {

broker::Lease LeaseOf(const std::string& id) { return {id, 7}; }

Outbox MakeOutbox(int32_t max_log_lines = 100) {
  return Outbox({std::chrono::milliseconds(9000), 4, max_log_lines});
}

TEST(OutboxTest, TakesEverythingWithTheLimitsOfTheWorker) {
  Outbox outbox = MakeOutbox();
  EXPECT_TRUE(outbox.empty());
  outbox.AddCompletion({LeaseOf("a"), "1"}, Retention{});
  outbox.AddFailure({LeaseOf("b"), "{}", 100}, Retention{});
  outbox.AddPostponement({LeaseOf("c"), 5, "later"});
  outbox.AddOverrun({LeaseOf("d"), 1000});
  outbox.AddProgress(LeaseOf("e"), "42", "line");
  EXPECT_FALSE(outbox.empty());
  broker::FlushRequest request = outbox.Take();
  EXPECT_TRUE(outbox.empty());
  EXPECT_TRUE(CarriesResults(request));
  EXPECT_EQ(request.lease, std::chrono::milliseconds(9000));
  EXPECT_EQ(request.policy.max_errors_kept, 4);
  ASSERT_EQ(request.completions.size(), 1u);
  EXPECT_EQ(request.completions[0].result_json, "1");
  ASSERT_EQ(request.failures.size(), 1u);
  EXPECT_EQ(request.failures[0].retry_delay_ms, 100);
  ASSERT_EQ(request.postponements.size(), 1u);
  ASSERT_EQ(request.overruns.size(), 1u);
  ASSERT_EQ(request.progress.size(), 1u);
  EXPECT_EQ(request.progress[0].progress_json, "42");
  EXPECT_FALSE(CarriesResults(outbox.Take()));
}

TEST(OutboxTest, OneFlushCarriesOneRetentionPolicyPerKind) {
  Outbox outbox = MakeOutbox();
  const Retention short_keep{1, std::chrono::milliseconds(1)};
  outbox.AddCompletion({LeaseOf("a"), "null"}, Retention{});
  outbox.AddCompletion({LeaseOf("b"), "null"}, Retention{});
  outbox.AddCompletion({LeaseOf("c"), "null"}, short_keep);
  outbox.AddCompletion({LeaseOf("d"), "null"}, Retention{});
  broker::FlushRequest first = outbox.Take();
  ASSERT_EQ(first.completions.size(), 2u);
  EXPECT_EQ(first.completions[1].lease.id, "b");
  broker::FlushRequest second = outbox.Take();
  ASSERT_EQ(second.completions.size(), 1u);
  EXPECT_EQ(second.completions[0].lease.id, "c");
  EXPECT_EQ(second.policy.keep_completed, short_keep);
  EXPECT_EQ(outbox.Take().completions.size(), 1u);
}

TEST(OutboxTest, AFailedFlushGoesBackInFrontOfWhatCameSince) {
  Outbox outbox = MakeOutbox();
  outbox.AddFailure({LeaseOf("a"), "{}", -1}, Retention{});
  outbox.AddOverrun({LeaseOf("a"), 0});
  broker::FlushRequest lost = outbox.Take();
  outbox.AddFailure({LeaseOf("b"), "{}", -1}, Retention{});
  outbox.AddOverrun({LeaseOf("b"), 0});
  outbox.Restore(lost);
  broker::FlushRequest again = outbox.Take();
  ASSERT_EQ(again.failures.size(), 2u);
  EXPECT_EQ(again.failures[0].lease.id, "a");
  EXPECT_EQ(again.failures[1].lease.id, "b");
  ASSERT_EQ(again.overruns.size(), 2u);
  EXPECT_EQ(again.overruns[0].lease.id, "a");
}

TEST(OutboxTest, RestoredProgressKeepsTheOlderLinesFirstAndTheNewerProgress) {
  Outbox outbox = MakeOutbox();
  outbox.AddProgress(LeaseOf("a"), "1", "old");
  broker::FlushRequest lost = outbox.Take();
  outbox.AddProgress(LeaseOf("a"), "2", "new");
  outbox.Restore(lost);
  broker::FlushRequest again = outbox.Take();
  ASSERT_EQ(again.progress.size(), 1u);
  EXPECT_EQ(again.progress[0].progress_json, "2");
  EXPECT_EQ(again.progress[0].log_lines, (std::vector<std::string>{"old", "new"}));
}

TEST(OutboxTest, KeepsTheNewestLogLinesOfAJob) {
  Outbox outbox = MakeOutbox(/*max_log_lines=*/2);
  outbox.AddProgress(LeaseOf("a"), "", "1");
  outbox.AddProgress(LeaseOf("a"), "", "2");
  outbox.AddProgress(LeaseOf("a"), "", "3");
  broker::FlushRequest request = outbox.Take();
  ASSERT_EQ(request.progress.size(), 1u);
  EXPECT_EQ(request.progress[0].log_lines, (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(request.progress[0].progress_json, "");
}

TEST(OutboxTest, SendsAtMostAThousandOverrunNoticesAFlush) {
  Outbox outbox = MakeOutbox();
  for (int i = 0; i < 1500; ++i) outbox.AddOverrun({LeaseOf(std::to_string(i)), 1});
  EXPECT_EQ(outbox.Take().overruns.size(), 1000u);
  broker::FlushRequest rest = outbox.Take();
  ASSERT_EQ(rest.overruns.size(), 500u);
  EXPECT_EQ(rest.overruns[0].lease.id, "1000");
}

TEST(OutboxTest, PutsBackOnlyThePartsRedisRefused) {
  Outbox outbox = MakeOutbox();
  outbox.AddCompletion({LeaseOf("a"), "null"}, Retention{});
  outbox.AddFailure({LeaseOf("b"), "{}", -1}, Retention{});
  outbox.AddPostponement({LeaseOf("c"), 5, ""});
  broker::FlushRequest request = outbox.Take();
  broker::FlushResult result;
  result.failures_error = Status(StatusCode::kInternal, "ERR refused");
  outbox.RestoreRefused(request, result);
  broker::FlushRequest again = outbox.Take();
  EXPECT_TRUE(again.completions.empty());
  EXPECT_TRUE(again.postponements.empty());
  ASSERT_EQ(again.failures.size(), 1u);
  EXPECT_EQ(again.failures[0].lease.id, "b");
}

}  // namespace
}  // namespace taskq::worker
