// state_page.lua: pages of one sorted set, by offset or after a (score, member) that may have
// gone, in Redis' orders, with members compared bytewise as Redis compares them.
#include "script_fixture.h"

namespace taskq::testing {
namespace {

class StatePageTest : public ScriptTest {
 protected:
  std::string Set() { return q().delayed(); }
  void Add(const std::string& member, const std::string& score) {
    Run({"ZADD", Set(), score, member});
  }
  broker::Reply Page(const std::vector<std::string>& args) {
    return Eval("state_page", broker::StatePageKeys(Set()), args);
  }
  // The members of a page ("member@score" when scores are asked for).
  std::vector<std::string> Members(const std::vector<std::string>& args, bool scores = false) {
    auto reply = Page(args);
    EXPECT_FALSE(reply.view().is_error()) << reply.view().str();
    std::vector<std::string> out;
    for (size_t i = 0; i + 1 < reply.view().size(); i += 2) {
      std::string entry(reply.view()[i].str());
      if (scores) entry += "@" + std::string(reply.view()[i + 1].str());
      out.push_back(entry);
    }
    return out;
  }
  using Ids = std::vector<std::string>;
};

TEST_F(StatePageTest, OffsetPagesInBothOrdersWithTheirScores) {
  Add("a", "10");
  Add("b", "20");
  Add("c", "30");
  EXPECT_EQ(Members({"asc", "2", "offset", "0"}, true), (Ids{"a@10", "b@20"}));
  EXPECT_EQ(Members({"asc", "2", "offset", "2"}), (Ids{"c"}));
  EXPECT_EQ(Members({"desc", "2", "offset", "1"}), (Ids{"b", "a"}));
  EXPECT_EQ(Members({"asc", "5", "offset", "3"}), Ids{});
}

TEST_F(StatePageTest, AfterAPresentMemberStartsRightAfterIt) {
  for (const char* m : {"a", "b", "c", "d"}) Add(m, "5");
  Add("e", "7");
  EXPECT_EQ(Members({"asc", "2", "after", "5", "b"}), (Ids{"c", "d"}));
  EXPECT_EQ(Members({"desc", "2", "after", "5", "c"}), (Ids{"b", "a"}));
  EXPECT_EQ(Members({"desc", "5", "after", "7", "e"}), (Ids{"d", "c", "b", "a"}));
  EXPECT_EQ(Members({"asc", "5", "after", "7", "e"}), Ids{});
}

TEST_F(StatePageTest, AfterAMemberThatWentAwayStartsWhereItWouldBe) {
  for (const char* m : {"a", "c", "e", "g"}) Add(m, "5");
  Add("z", "1");
  Add("y", "9");
  // "d" was between c and e at score 5; bisection among the ties finds its place.
  EXPECT_EQ(Members({"asc", "10", "after", "5", "d"}), (Ids{"e", "g", "y"}));
  EXPECT_EQ(Members({"desc", "10", "after", "5", "d"}), (Ids{"c", "a", "z"}));
  // A member that moved to another score counts as gone from the cursor's score.
  EXPECT_EQ(Members({"asc", "10", "after", "3", "y"}), (Ids{"a", "c", "e", "g", "y"}));
  EXPECT_EQ(Members({"desc", "10", "after", "3", "y"}), (Ids{"z"}));
  // Past every tie, and before them all.
  EXPECT_EQ(Members({"asc", "10", "after", "5", "h"}), (Ids{"y"}));
  EXPECT_EQ(Members({"desc", "10", "after", "5", "0"}), (Ids{"z"}));
}

TEST_F(StatePageTest, MembersCompareBytewiseAsRedisOrdersThem) {
  // Bytewise, "B" (0x42) and "_" (0x5f) sort before "a"; a locale's collation would not.
  for (const char* m : {"a", "B", "_", "\xc3\xa9"}) Add(m, "1");
  EXPECT_EQ(Members({"asc", "10", "offset", "0"}), (Ids{"B", "_", "a", "\xc3\xa9"}));
  EXPECT_EQ(Members({"asc", "10", "after", "1", "C"}), (Ids{"_", "a", "\xc3\xa9"}));
  EXPECT_EQ(Members({"asc", "10", "after", "1", "ab"}), (Ids{"\xc3\xa9"}));
  EXPECT_EQ(Members({"desc", "10", "after", "1", "ab"}), (Ids{"a", "_", "B"}));
}

TEST_F(StatePageTest, RefusesBadArgumentsAndChangesNothing) {
  Add("a", "1");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"up", "2", "offset", "0"},
                                             {"asc", "0", "offset", "0"},
                                             {"asc", "1001", "offset", "0"},
                                             {"asc", "2", "offset", "-1"},
                                             {"asc", "2", "offset", "1.5"},
                                             {"asc", "2", "after", "inf", "a"},
                                             {"asc", "2", "after", "nope", "a"},
                                             {"asc", "2", "after", "1", ""},
                                             {"asc", "2", "after", "1"},
                                             {"asc", "2", "sideways", "0"}}) {
    EXPECT_TRUE(Page(args).view().is_error()) << args[0] << " " << args[1] << " " << args[2];
  }
  EXPECT_EQ(Members({"asc", "5", "offset", "0"}, true), (Ids{"a@1"}));
}

}  // namespace
}  // namespace taskq::testing
