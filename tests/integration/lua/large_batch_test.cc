// Batches longer than Lua's unpack limit (about 8000 values): each script is still one atomic
// step that either does all of its work or, refusing, writes nothing. A failure after the first
// write would leave jobs half-moved, since Redis does not roll a script back.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

constexpr int kJobs = 5000;  // 5000 ids, 10000 "field, value" arguments: past the unpack limit

class LargeBatchScriptTest : public ScriptTest {
 protected:
  static std::string IdOf(int i) { return "j" + std::to_string(i); }

  // Enqueues kJobs plain jobs in one enqueue.lua call.
  void EnqueueMany() {
    std::vector<std::string> args = {base(), std::to_string(kJobs)};
    for (int i = 0; i < kJobs; ++i) {
      args.insert(args.end(), {IdOf(i), R"({"t":"email","d":{}})", ""});
    }
    auto reply = Eval("enqueue", EnqueueKeys(), args);
    ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  }
  // Claims every waiting job (claim takes at most 1000 per call): id -> token.
  std::map<std::string, std::string> ClaimAll() {
    std::map<std::string, std::string> tokens;
    for (;;) {
      auto claim = Claim(1000);
      auto ids = ClaimedIds(claim);
      if (ids.empty()) break;
      for (size_t i = 0; i < ids.size(); ++i) tokens[ids[i]] = TokenOf(claim, i);
    }
    return tokens;
  }
  long long Card(const std::string& zset) { return Run({"ZCARD", zset}).view().integer(); }
};

// Regression: retry_dead.lua removed every given id from dead before an HMGET with all of them;
// past the unpack limit that raised after the ZREMs, and the jobs were in no state at all.
TEST_F(LargeBatchScriptTest, RetryingThousandsOfDeadJobsByIdMovesEveryOne) {
  EnqueueMany();
  auto tokens = ClaimAll();
  ASSERT_EQ(tokens.size(), static_cast<size_t>(kJobs));
  std::vector<std::string> args = {base(), std::to_string(kJobs), "10", "-1", "0"};
  for (const auto& [id, token] : tokens) args.insert(args.end(), {id, token, "-1"});
  for (size_t i = 0; i < tokens.size(); ++i) args.push_back(R"({"message":"boom"})");
  ASSERT_FALSE(Eval("fail", FailKeys(), args).view().is_error());
  ASSERT_EQ(Card(q().dead()), kJobs);

  std::vector<std::string> retry = {base(), "1000"};
  for (int i = 0; i < kJobs; ++i) retry.push_back(IdOf(i));
  retry.push_back(IdOf(0));  // repeated: moves once
  retry.push_back("ghost");  // not dead: skipped
  auto reply = Eval("retry_dead", RetryDeadKeys(), retry);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(reply.view().integer(), kJobs);
  EXPECT_EQ(Card(q().dead()), 0);
  EXPECT_EQ(Run({"LLEN", q().wait()}).view().integer(), kJobs);
  EXPECT_EQ(StateOf(IdOf(kJobs - 1)).state, "waiting");
  EXPECT_EQ(StateOf(IdOf(kJobs - 1)).attempts, 0);
  EXPECT_FALSE(HasState("ghost"));
}

// Regression: fail.lua pushed each job's error before an HSET of every record, which raised past
// the unpack limit: errors were recorded for failures that never happened.
TEST_F(LargeBatchScriptTest, FailingThousandsOfJobsAtOnceRecordsEveryFailure) {
  EnqueueMany();
  auto tokens = ClaimAll();
  std::vector<std::string> args = {base(), std::to_string(kJobs), "10", "-1", "0"};
  int i = 0;
  for (const auto& [id, token] : tokens) {
    args.insert(args.end(), {id, token, i++ % 2 == 0 ? "60000" : "-1"});
  }
  for (size_t k = 0; k < tokens.size(); ++k) args.push_back(R"({"message":"boom"})");
  auto reply = Eval("fail", FailKeys(), args);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(Ints(reply).size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(Card(q().retry()) + Card(q().dead()), kJobs);
  EXPECT_EQ(Card(q().retry()), kJobs / 2);
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(List(q().job_errors(IdOf(4321))).size(), 1u);
  EXPECT_EQ(HGet(q().meta(), "failed"), std::to_string(kJobs));
}

// Regression: postpone.lua appended each job's log line before an HSET of every record.
TEST_F(LargeBatchScriptTest, PostponingThousandsOfJobsAtOnceMovesEveryOne) {
  EnqueueMany();
  auto tokens = ClaimAll();
  std::vector<std::string> args = {base(), std::to_string(kJobs), "100"};
  for (const auto& [id, token] : tokens) args.insert(args.end(), {id, token, "1000", "limited"});
  auto reply = Eval("postpone", PostponeKeys(), args);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(Card(q().delayed()), kJobs);
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(StateOf(IdOf(17)).state, "delayed");
  EXPECT_EQ(List(q().job_logs(IdOf(17))), (std::vector<std::string>{"limited"}));
}

// release.lua wrote its records with one unpacked HSET: a worker could not hand back more jobs
// than about 4000 at once.
TEST_F(LargeBatchScriptTest, ReleasingThousandsOfJobsAtOnceHandsEveryOneBack) {
  EnqueueMany();
  auto tokens = ClaimAll();
  std::vector<std::string> args = {base()};
  for (const auto& [id, token] : tokens) args.insert(args.end(), {id, token});
  auto reply = Eval("release", ReleaseKeys(), args);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(reply.view().integer(), kJobs);
  EXPECT_EQ(Run({"LLEN", q().wait()}).view().integer(), kJobs);
  EXPECT_FALSE(Exists(q().active()));
  EXPECT_EQ(StateOf(IdOf(17)).state, "waiting");
}

// Regression: progress.lua appended log lines per job before an HSET of every progress value.
TEST_F(LargeBatchScriptTest, ProgressOfThousandsOfJobsAtOnceIsStoredForEveryOne) {
  EnqueueMany();
  auto tokens = ClaimAll();
  std::vector<std::string> args = {base(), "100"};
  for (const auto& [id, token] : tokens) args.insert(args.end(), {id, token, "50", "1", "half"});
  auto reply = Eval("progress", ProgressKeys(), args);
  ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
  EXPECT_EQ(Run({"HLEN", q().progress()}).view().integer(), kJobs);
  EXPECT_EQ(List(q().job_logs(IdOf(99))), (std::vector<std::string>{"half"}));
}

// A refused progress batch writes nothing, however large: more log lines for one job than the
// script takes (1000) is refused before any write.
TEST_F(LargeBatchScriptTest, ProgressWithTooManyLinesForOneJobWritesNothing) {
  EnqueueMany();
  auto tokens = ClaimAll();
  auto before = Snapshot();
  std::vector<std::string> args = {base(), "100"};
  for (const auto& [id, token] : tokens) args.insert(args.end(), {id, token, "50", "1", "x"});
  args.insert(args.end(), {IdOf(0), tokens[IdOf(0)], "", "1001"});
  for (int i = 0; i < 1001; ++i) args.push_back("line");
  EXPECT_TRUE(Eval("progress", ProgressKeys(), args).view().is_error());
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace taskq::testing
