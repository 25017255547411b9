// history_record.lua: one sample per bucket whoever records, the counters it reads, and the
// buckets it keeps.
#include <chrono>
#include <thread>

#include "script_fixture.h"

namespace taskq::testing {
namespace {

class HistoryScriptTest : public ScriptTest {
 protected:
  broker::Reply Record(const std::string& bucket_ms, const std::string& keep = "1440") {
    return Eval("history_record", broker::HistoryRecordKeys(q()), {bucket_ms, keep});
  }
  struct Sample {
    long long start_ms;
    std::map<std::string, long long> fields;
  };
  std::vector<Sample> Samples() {
    std::vector<Sample> out;
    auto reply = Run({"XRANGE", q().history(), "-", "+"});
    for (size_t i = 0; i < reply.view().size(); ++i) {
      Sample& s = out.emplace_back();
      const std::string id(reply.view()[i][0].str());
      EXPECT_TRUE(id.ends_with("-0")) << id;
      s.start_ms = std::stoll(id);
      const auto fields = reply.view()[i][1];
      for (size_t f = 0; f + 1 < fields.size(); f += 2) {
        s.fields[std::string(fields[f].str())] = fields[f + 1].AsInt();
      }
    }
    return out;
  }
  // Waits while Redis' clock is within `margin_ms` of a bucket's end, so that calls made at once
  // fall in the same bucket.
  void WaitUnlessEarlyInBucket(long long bucket_ms, long long margin_ms) {
    while (bucket_ms - Now() % bucket_ms < margin_ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
};

TEST_F(HistoryScriptTest, TheFirstCallOfABucketWritesItsSampleAndLaterOnesNothing) {
  Enqueue("a");
  Enqueue("b");
  Run({"HSET", q().meta(), "completed", "7", "failed", "3", "dead", "2", "gwaiting", "4"});
  WaitUnlessEarlyInBucket(60000, 2000);
  const long long before = Now();
  auto first = Record("60000");
  ASSERT_FALSE(first.view().is_error()) << first.view().str();
  EXPECT_EQ(Ints(first)[0], 1);
  EXPECT_GT(Ints(first)[1], 0);
  EXPECT_LE(Ints(first)[1], 60000);
  auto second = Record("60000");
  EXPECT_EQ(Ints(second)[0], 0);  // a second recorder in the same bucket
  const auto samples = Samples();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].start_ms, before - before % 60000);
  // until_next runs from the call's time (between `before` and now) to the next bucket.
  const long long called = samples[0].start_ms + 60000 - Ints(first)[1];
  EXPECT_GE(called, before);
  EXPECT_LE(called, Now());
  EXPECT_EQ(samples[0].fields.at("b"), 60000);
  EXPECT_EQ(samples[0].fields.at("e"), 2);  // enqueue.lua counts created jobs
  EXPECT_EQ(samples[0].fields.at("c"), 7);
  EXPECT_EQ(samples[0].fields.at("f"), 3);
  EXPECT_EQ(samples[0].fields.at("d"), 2);
  EXPECT_EQ(samples[0].fields.at("w"), 2 + 4);  // the list and the grouped ones
}

TEST_F(HistoryScriptTest, EachBucketGetsOneSampleAndOnlyTheNewestAreKept) {
  for (int i = 0; i < 4; ++i) {
    WaitUnlessEarlyInBucket(1000, 500);
    auto reply = Record("1000", "2");
    ASSERT_FALSE(reply.view().is_error()) << reply.view().str();
    EXPECT_EQ(Ints(reply)[0], 1) << "bucket " << i;
    EXPECT_EQ(Ints(Record("1000", "2"))[0], 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(Ints(reply)[1] + 5));
  }
  const auto samples = Samples();
  ASSERT_EQ(samples.size(), 2u);  // keep 2: the older buckets were trimmed
  EXPECT_EQ(samples[1].start_ms - samples[0].start_ms, 1000);
}

TEST_F(HistoryScriptTest, AnOlderBucketThanTheLastSampleWritesNothing) {
  // A sample of a later bucket (a recorder with a longer bucket, or a clock that went back).
  const long long later = Now() + 3600000;
  Run({"XADD", q().history(), std::to_string(later) + "-0", "b", "1000", "e", "0", "c", "0", "f",
       "0", "d", "0", "w", "0"});
  EXPECT_EQ(Ints(Record("1000"))[0], 0);
  EXPECT_EQ(Samples().size(), 1u);
}

TEST_F(HistoryScriptTest, RefusesBadArguments) {
  for (const auto& [bucket, keep] :
       std::vector<std::pair<std::string, std::string>>{{"999", "10"},
                                                        {"3600001", "10"},
                                                        {"1000.5", "10"},
                                                        {"x", "10"},
                                                        {"1000", "0"},
                                                        {"1000", "10081"}}) {
    auto reply = Record(bucket, keep);
    EXPECT_TRUE(reply.view().is_error()) << bucket << " " << keep;
  }
  EXPECT_FALSE(Exists(q().history()));
}

}  // namespace
}  // namespace taskq::testing
