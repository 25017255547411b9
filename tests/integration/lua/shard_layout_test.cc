// shard_layout.lua: one shard's part of a change of a queue's shards (its version check, the
// emptiness and settings checks of mode change, and what each role writes).
#include <functional>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

class ShardLayoutScriptTest : public ScriptTest {
 protected:
  // The script's arguments, in order (shard_layout.lua's header).
  struct Args {
    std::string mode = "change";
    std::string expected = "0";
    std::string version = "1";
    std::string role = "home";
    std::string shards = "3";
    std::string tags = "b c";
    std::string paused = "0";
    std::string token = "change-1";
  };
  broker::Reply Layout(const Args& a) {
    return Eval("shard_layout", ShardLayoutKeys(),
                {a.mode, a.expected, a.version, a.role, a.shards, a.tags, a.paused, a.token});
  }
  // The error text of a reply; "" when it is not an error.
  static std::string ErrorOf(const broker::Reply& reply) {
    return reply.view().is_error() ? std::string(reply.view().str()) : "";
  }
  // The reply of a call that should have written: 1.
  static void ExpectWritten(const broker::Reply& reply, const std::string& what = "") {
    EXPECT_FALSE(reply.view().is_error()) << what << ": " << reply.view().str();
    EXPECT_EQ(reply.view().integer(), 1) << what;
  }
  // meta as a map, without the change's token (sct), which ChangesWriteTheirToken checks.
  std::map<std::string, std::string> Meta() {
    auto fields = Strings({"HGETALL", q().meta()});
    std::map<std::string, std::string> out;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i] != "sct") out[fields[i]] = fields[i + 1];
    }
    return out;
  }
  static constexpr std::array<const char*, 4> kRoles = {"home", "kept", "new", "gone"};
};

TEST_F(ShardLayoutScriptTest, ChangeAtHomeWritesVersionShardsAndTags) {
  ExpectWritten(Layout({.expected = "0", .version = "1", .shards = "3", .tags = "b c"}));
  EXPECT_EQ(AllKeys(), (std::vector<std::string>{q().meta()}));
  EXPECT_EQ(Meta(),
            (std::map<std::string, std::string>{{"sv", "1"}, {"shards", "3"}, {"stags", "b c"}}));
  // back to one shard: the tags go; the rest of meta stays
  Run({"HSET", q().meta(), "paused", "1", "enqueued", "7"});
  ExpectWritten(
      Layout({.expected = "1", .version = "2", .shards = "1", .tags = "", .paused = "1"}));
  EXPECT_EQ(AllKeys(), (std::vector<std::string>{q().meta()}));
  EXPECT_EQ(Meta(), (std::map<std::string, std::string>{
                        {"sv", "2"}, {"shards", "1"}, {"paused", "1"}, {"enqueued", "7"}}));
}

TEST_F(ShardLayoutScriptTest, KeptAndGoneShardsGetOnlyTheVersion) {
  for (const char* role : {"kept", "gone"}) {
    Run({"FLUSHALL"});
    Run({"HSET", q().meta(), "sv", "1", "enqueued", "7"});
    ExpectWritten(Layout({.expected = "1",
                          .version = "2",
                          .role = role,
                          .shards = "4",
                          .tags = "b c d",
                          .paused = "1"}),
                  role);
    EXPECT_EQ(AllKeys(), (std::vector<std::string>{q().meta()})) << role;
    EXPECT_EQ(Meta(), (std::map<std::string, std::string>{{"sv", "2"}, {"enqueued", "7"}})) << role;
  }
}

TEST_F(ShardLayoutScriptTest, NewShardGetsTheVersionAndStartsPausedWhenTheQueueIs) {
  ExpectWritten(Layout({.expected = "4", .version = "5", .role = "new", .paused = "1"}));
  EXPECT_EQ(AllKeys(), (std::vector<std::string>{q().meta()}));
  EXPECT_EQ(Meta(), (std::map<std::string, std::string>{{"sv", "5"}, {"paused", "1"}}));
  Run({"FLUSHALL"});
  ExpectWritten(Layout({.expected = "4", .version = "5", .role = "new", .paused = "0"}));
  EXPECT_EQ(Meta(), (std::map<std::string, std::string>{{"sv", "5"}}));
  // A tag that was a shard before, dropped while the queue was paused, comes back running when
  // the queue runs now.
  Run({"FLUSHALL"});
  Run({"HSET", q().meta(), "sv", "3", "paused", "1"});
  ExpectWritten(Layout({.expected = "4", .version = "5", .role = "new", .paused = "0"}));
  EXPECT_EQ(Meta(), (std::map<std::string, std::string>{{"sv", "5"}}));
}

// Another change came first: a home, kept or gone shard whose version is not the one the change
// read at home refuses, writing nothing.
TEST_F(ShardLayoutScriptTest, ChangeRefusesAShardWhoseVersionIsNotTheExpectedOne) {
  struct Case {
    std::optional<std::string> sv;  // nullopt: no sv
    std::string expected;
    std::string error;
  };
  const std::vector<Case> cases = {
      {std::nullopt, "1", "VERSION 0"},
      {"2", "1", "VERSION 2"},
      {"1", "2", "VERSION 1"},
      {"1", "0", "VERSION 1"},
  };
  for (const char* role : {"home", "kept", "gone"}) {
    for (const Case& c : cases) {
      const std::string what =
          std::string(role) + " sv " + c.sv.value_or("none") + " expected " + c.expected;
      Run({"FLUSHALL"});
      Run({"HSET", q().meta(), "enqueued", "3"});
      if (c.sv) Run({"HSET", q().meta(), "sv", *c.sv});
      const auto before = Snapshot();
      const std::string version = std::to_string(std::stoll(c.expected) + 1);
      auto reply = Layout({.expected = c.expected, .version = version, .role = role});
      EXPECT_EQ(ErrorOf(reply), c.error) << what;
      EXPECT_EQ(Snapshot(), before) << what;
    }
    // the expected version: written
    Run({"FLUSHALL"});
    Run({"HSET", q().meta(), "sv", "2"});
    ExpectWritten(Layout({.expected = "2", .version = "3", .role = role}), role);
    EXPECT_EQ(HGet(q().meta(), "sv"), "3") << role;
  }
}

// A new shard's tag may have been a shard before and kept an old version: any version below the
// new one is taken, one at or above it refused.
TEST_F(ShardLayoutScriptTest, NewShardTakesAnyVersionBelowTheNewOne) {
  for (const char* sv : {"", "1", "3", "4"}) {
    Run({"FLUSHALL"});
    if (*sv != '\0') Run({"HSET", q().meta(), "sv", sv});
    ExpectWritten(Layout({.expected = "4", .version = "5", .role = "new"}), sv);
    EXPECT_EQ(HGet(q().meta(), "sv"), "5") << sv;
  }
  for (const char* sv : {"5", "6", "12"}) {
    Run({"FLUSHALL"});
    Run({"HSET", q().meta(), "sv", sv, "paused", "0"});
    const auto before = Snapshot();
    EXPECT_EQ(ErrorOf(Layout({.expected = "4", .version = "5", .role = "new", .paused = "1"})),
              std::string("VERSION ") + sv);
    EXPECT_EQ(Snapshot(), before) << sv;
  }
}

// A restore undoes a refused change: it takes a shard that change wrote (its token, at a version
// below the restore's) or left at the expected version, and refuses a shard another change
// wrote, which stays as that change left it.
TEST_F(ShardLayoutScriptTest, RestoreTakesOnlyWhatItsChangeWroteOrLeftAtTheOldVersion) {
  struct Case {
    std::string sv, sct;
    bool taken;
  };
  const std::vector<Case> cases = {
      {"2", "", true},           // untouched, at the expected version
      {"3", "change-1", true},   // written by this change
      {"3", "other", false},     // written by another change at the same version
      {"", "", false},           // not at the expected version, never written by this change
      {"9", "change-1", false},  // not below the restore's version
      {"10", "change-1", false},
  };
  for (const char* role : kRoles) {
    for (const Case& c : cases) {
      const std::string what = std::string(role) + " sv " + c.sv + " sct " + c.sct;
      Run({"FLUSHALL"});
      Run({"HSET", q().meta(), "enqueued", "1"});
      if (!c.sv.empty()) Run({"HSET", q().meta(), "sv", c.sv});
      if (!c.sct.empty()) Run({"HSET", q().meta(), "sct", c.sct});
      const auto before = Snapshot();
      auto reply = Layout({.mode = "restore",
                           .expected = "2",
                           .version = "9",
                           .role = role,
                           .shards = "2",
                           .tags = "b"});
      if (!c.taken) {
        EXPECT_EQ(ErrorOf(reply), "VERSION " + (c.sv.empty() ? std::string("0") : c.sv)) << what;
        EXPECT_EQ(Snapshot(), before) << what;
        continue;
      }
      ExpectWritten(reply, what);
      EXPECT_EQ(HGet(q().meta(), "sv"), "9") << what;
      if (std::string(role) == "home") {
        EXPECT_EQ(HGet(q().meta(), "shards"), "2") << what;
        EXPECT_EQ(HGet(q().meta(), "stags"), "b") << what;
      } else {
        EXPECT_FALSE(HExists(q().meta(), "shards")) << what;
      }
    }
  }
}

// A repair brings a shard an interrupted change left behind to the version given, from any lower
// one, without looking at its jobs.
TEST_F(ShardLayoutScriptTest, RepairRaisesAnyLowerVersion) {
  Enqueue("waiting");
  for (const char* sv : {"", "1", "4"}) {
    Run({"HDEL", q().meta(), "sv"});
    if (*sv != '\0') Run({"HSET", q().meta(), "sv", sv});
    ExpectWritten(Layout({.mode = "repair", .expected = "1", .version = "5", .role = "kept"}), sv);
    EXPECT_EQ(HGet(q().meta(), "sv"), "5") << sv;
  }
  EXPECT_EQ(ErrorOf(Layout({.mode = "repair", .expected = "1", .version = "5", .role = "kept"})),
            "VERSION 5");
}

TEST_F(ShardLayoutScriptTest, ChangeRefusesAShardHoldingJobs) {
  struct Case {
    std::string name;
    std::function<void()> seed;
    std::string error;
  };
  const long long later = Now() + 600000;
  const std::vector<Case> cases = {
      {"waiting",
       [&] {
         Enqueue("a");
         Enqueue("b");
       },
       "NOTEMPTY waiting 2"},
      {"prioritized", [&] { Enqueue("p", 5); }, "NOTEMPTY waiting 1"},
      {"waiting and prioritized",
       [&] {
         Enqueue("a");
         Enqueue("p", -3);
       },
       "NOTEMPTY waiting 2"},
      {"grouped",
       [&] {
         Enqueue("g1", 0, 0, "tenant-a");
         Enqueue("g2", 0, 0, "tenant-b");
         ASSERT_EQ(HGet(q().meta(), "gwaiting"), "2");
         ASSERT_TRUE(List(q().wait()).empty());
       },
       "NOTEMPTY grouped 2"},
      {"gwaiting",
       [&] {
         Run({"HSET", q().meta(), "gwaiting", "2"});
       },
       "NOTEMPTY grouped 2"},
      {"delayed", [&] { Enqueue("d", 0, 600000); }, "NOTEMPTY delayed 1"},
      {"retrying",
       [&] {
         for (const char* id : {"r1", "r2", "r3"}) {
           Run({"ZADD", q().retry(), std::to_string(later), id});
         }
       },
       "NOTEMPTY retrying 3"},
      {"active",
       [&] {
         Enqueue("a");
         ASSERT_EQ(CountOf(Claim(1)), 1);
       },
       "NOTEMPTY active 1"},
      {"held",
       [&] {
         Run({"ZADD", q().held(), "1", "parent"});
       },
       "NOTEMPTY held 1"},
  };
  for (const char* role : kRoles) {
    for (const Case& c : cases) {
      const std::string what = std::string(role) + " " + c.name;
      Run({"FLUSHALL"});
      c.seed();
      const auto before = Snapshot();
      auto reply = Layout({.expected = "0", .version = "1", .role = role});
      EXPECT_EQ(ErrorOf(reply), c.error) << what;
      EXPECT_EQ(Snapshot(), before) << what;
    }
  }
}

// Nothing reads a dropped shard: a gone one must not hold even a finished job, which a kept, new or
// home shard may.
// A change leaves no job behind on any shard: a completed or dead job's id would no longer be
// found by placement (a second job could take it), an outbox entry would no longer be relayed,
// and a unique key in mode ttl may outlive its job.
TEST_F(ShardLayoutScriptTest, EveryShardMustHoldNoJobOutboxEntryOrTtlKey) {
  auto seed = [&] {
    Run({"FLUSHALL"});
    Enqueue("done");
    Enqueue("dead");
    auto tokens = ClaimTokens();
    CompleteJob("done", tokens["done"]);
    FailJob("dead", tokens["dead"], -1);
    ASSERT_TRUE(ZMembers(q().active()).empty());
  };
  for (const char* role : kRoles) {
    seed();
    auto before = Snapshot();
    EXPECT_EQ(ErrorOf(Layout({.role = role})), "NOTEMPTY jobs 2") << role;
    EXPECT_EQ(Snapshot(), before) << role;
  }
  Run({"FLUSHALL"});
  Run({"HSET", q().jobs(), "done", R"({"c":1,"d":{}})"});
  EXPECT_EQ(ErrorOf(Layout({.role = "gone"})), "NOTEMPTY jobs 1");

  Run({"FLUSHALL"});
  Run({"XADD", q().outbox(), "*", "k", "cb", "id", "x"});
  auto before = Snapshot();
  EXPECT_EQ(ErrorOf(Layout({.expected = "0", .role = "kept"})), "NOTEMPTY outbox 1");
  EXPECT_EQ(Snapshot(), before);

  // meta.uttl: the latest expiry of a ttl key (unique_enqueue.lua)
  Run({"FLUSHALL"});
  Run({"HSET", q().meta(), "uttl", std::to_string(Now() + 60000)});
  before = Snapshot();
  EXPECT_EQ(ErrorOf(Layout({})), "NOTEMPTY unique 1");
  EXPECT_EQ(Snapshot(), before);
  Run({"HSET", q().meta(), "uttl", std::to_string(Now() - 1)});
  ExpectWritten(Layout({}));
}

// Each change writes its token beside the version, so that a restore can tell its own writes.
TEST_F(ShardLayoutScriptTest, ChangesWriteTheirToken) {
  ExpectWritten(Layout({.token = "abc"}));
  EXPECT_EQ(HGet(q().meta(), "sct"), "abc");
}

// A restore puts back a layout a refused change replaced: jobs and settings do not stop it, and it
// touches nothing but meta.
TEST_F(ShardLayoutScriptTest, RestoreSkipsTheEmptinessAndSettingsChecks) {
  for (const char* role : kRoles) {
    Run({"FLUSHALL"});
    Enqueue("done");
    CompleteJob("done", ClaimTokens()["done"]);
    Enqueue("a");
    Enqueue("p", 4);
    Enqueue("g", 0, 0, "tenant");
    Enqueue("d", 0, 600000);
    Enqueue("r");
    ASSERT_EQ(CountOf(Claim(1)), 1);  // one job is active
    Run({"ZADD", q().retry(), std::to_string(Now() + 600000), "x"});
    Run({"ZADD", q().held(), "1", "parent"});
    Run({"HSET", q().meta(), "rl", "5:1000", "cc", "2", "grl", "5:1000", "gcc", "1", "gf", "tenant",
         "ag", "1000", "ml", "100"});
    auto before = Snapshot();
    ExpectWritten(Layout({.mode = "restore",
                          .expected = "0",
                          .version = "2",
                          .role = role,
                          .shards = "3",
                          .tags = "b c"}),
                  role);
    auto after = Snapshot();
    EXPECT_EQ(HGet(q().meta(), "sv"), "2") << role;
    before.erase(q().meta());
    after.erase(q().meta());
    EXPECT_EQ(after, before) << role;
    EXPECT_EQ(HGet(q().meta(), "rl"), "5:1000") << role;
  }
}

// A sharded queue takes no rate or concurrency limit, group field, aging or maximum length
// (queue_limits.lua): the home shard refuses a change to more than one shard while meta holds one.
TEST_F(ShardLayoutScriptTest, HomeRefusesSettingsAShardedQueueCannotTake) {
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"rl", "5:1000"}, {"cc", "2"},    {"grl", "5:1000"}, {"gcc", "1"},
      {"gf", "tenant"}, {"ag", "1000"}, {"ml", "100"}};
  for (const auto& [field, value] : settings) {
    Run({"FLUSHALL"});
    Run({"HSET", q().meta(), field, value});
    const auto before = Snapshot();
    for (const char* shards : {"2", "32"}) {
      EXPECT_EQ(ErrorOf(Layout({.role = "home", .shards = shards})), "SETTINGS " + field)
          << field << " " << shards;
      EXPECT_EQ(Snapshot(), before) << field;
    }
    // other shards do not read the settings; one shard takes them all
    ExpectWritten(Layout({.role = "kept", .shards = "3"}), field);
    Run({"HDEL", q().meta(), "sv"});
    ExpectWritten(Layout({.role = "home", .shards = "1", .tags = ""}), field);
    EXPECT_EQ(Meta(),
              (std::map<std::string, std::string>{{field, value}, {"sv", "1"}, {"shards", "1"}}))
        << field;
    // a sharded queue's limits are shares: going back to one shard would keep only home's
    Run({"HSET", q().meta(), "shards", "3"});
    const auto sharded = Snapshot();
    EXPECT_EQ(ErrorOf(Layout({.expected = "1", .version = "2", .shards = "1", .tags = ""})),
              "SETTINGS " + field);
    EXPECT_EQ(Snapshot(), sharded) << field;
    // a new shard's tag that was a shard before drops the shares it kept
    Run({"FLUSHALL"});
    Run({"HSET", q().meta(), field, value, "sv", "1"});
    ExpectWritten(Layout({.expected = "1", .version = "3", .role = "new"}), field);
    EXPECT_EQ(Meta(), (std::map<std::string, std::string>{{"sv", "3"}})) << field;
  }
}

TEST_F(ShardLayoutScriptTest, RejectsBadArgumentsAndWritesNothing) {
  Run({"HSET", q().meta(), "sv", "1", "shards", "3", "stags", "b c"});
  const Args good{.expected = "1", .version = "2"};
  std::vector<std::pair<std::string, Args>> bad;
  auto with = [&](std::string what, auto change) {
    Args a = good;
    change(a);
    bad.emplace_back(std::move(what), a);
  };
  for (const char* mode : {"", "swap", "Change", "restore "}) {
    with(std::string("mode ") + mode, [&](Args& a) { a.mode = mode; });
  }
  for (const char* role : {"", "shard", "Home", "old"}) {
    with(std::string("role ") + role, [&](Args& a) { a.role = role; });
  }
  for (const char* expected : {"", "x", "-1", "0.5"}) {
    with(std::string("expected ") + expected, [&](Args& a) { a.expected = expected; });
  }
  for (const char* version : {"1", "0", "", "x", "2.5", "4503599627370497"}) {
    with(std::string("version ") + version, [&](Args& a) { a.version = version; });
  }
  for (const char* shards : {"0", "33", "-1", "1.5", "", "x"}) {
    with(std::string("shards ") + shards, [&](Args& a) { a.shards = shards; });
  }
  for (const char* paused : {"", "2", "true", "01"}) {
    with(std::string("paused ") + paused, [&](Args& a) { a.paused = paused; });
  }
  with("tags of 4097 bytes", [&](Args& a) { a.tags = std::string(4097, 't'); });
  with("no token", [&](Args& a) { a.token = ""; });
  with("token of 65 bytes", [&](Args& a) { a.token = std::string(65, 'x'); });
  // the same in mode restore, where the version check differs
  with("restore version 1", [&](Args& a) {
    a.mode = "restore";
    a.version = "1";
  });

  const auto before = Snapshot();
  for (const auto& [what, args] : bad) {
    const std::string error = ErrorOf(Layout(args));
    EXPECT_TRUE(error.starts_with("ERR")) << what << ": " << error;
    EXPECT_EQ(Snapshot(), before) << what;
  }
  const std::vector<std::string> all = {good.mode,   good.expected, good.version, good.role,
                                        good.shards, good.tags,     good.paused,  good.token};
  for (size_t count : {0u, 7u, 9u}) {
    std::vector<std::string> args(all.begin(), all.begin() + std::min(count, all.size()));
    if (count > all.size()) args.push_back("extra");
    const std::string error = ErrorOf(Eval("shard_layout", ShardLayoutKeys(), args));
    EXPECT_TRUE(error.starts_with("ERR")) << count << " arguments: " << error;
    EXPECT_EQ(Snapshot(), before) << count << " arguments";
  }
  // the arguments the bad ones derive from are good
  ExpectWritten(Layout(good));
  EXPECT_EQ(HGet(q().meta(), "sv"), "2");
}

// The highest version the contract allows (2^52) is written as the integer producers name.
TEST_F(ShardLayoutScriptTest, HighestVersionIsWrittenAsAnInteger) {
  Run({"HSET", q().meta(), "sv", "4503599627370495"});
  ExpectWritten(Layout({.expected = "4503599627370495", .version = "4503599627370496"}));
  EXPECT_EQ(HGet(q().meta(), "sv"), "4503599627370496");
  auto reply =
      Eval("enqueue_one", EnqueueOneKeys(), {base(), "a", R"({"d":{}})", "4503599627370496"});
  EXPECT_EQ(reply.view().integer(), 1) << reply.view().str();
}

}  // namespace
}  // namespace taskq::testing
