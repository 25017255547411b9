// The main of the process isolation tests. A worker under test starts its handler processes from
// this binary, as a worker program does from its own: the first thing main does is serve as one
// when started as one.
#include <gtest/gtest.h>

#include "taskq/worker.h"
#include "testing/misbehaving_handler.h"

int main(int argc, char** argv) {
  if (taskq::IsHandlerProcess()) {
    taskq::Worker worker(taskq::WorkerOptions{});
    worker.Register("misbehave", taskq::testing::Misbehave);
    return worker.ServeHandlerProcess();
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
