#include "common/job_states.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace taskq {
namespace {

TEST(JobStatesTest, EveryStateParsesBackFromItsName) {
  std::set<std::string> names;
  for (JobState state : kJobStates) {
    EXPECT_EQ(ParseJobState(JobStateName(state)), state) << JobStateName(state);
    names.insert(JobStateName(state));
  }
  EXPECT_EQ(names.size(), std::size(kJobStates));  // no two states share a name
  EXPECT_EQ(ParseJobState("held"), JobState::kHeld);
  EXPECT_EQ(ParseJobState("waiting-children"), std::nullopt);
}

TEST(JobStatesTest, TheChoicesNameEveryStateOnce) {
  EXPECT_EQ(JobStateChoices(), "waiting, delayed, active, completed, retrying, dead, held");
}

}  // namespace
}  // namespace taskq
