// A job type for tests of handler isolation ("misbehave"), whose data says what its handler does:
//   {"do": "pid"}                 returns {"pid": <its process id>}
//   {"do": "sleep", "ms": N, "lock": PATH}
//                                 logs "pid <id>", then sleeps N ms ignoring stop requests (an
//                                 attempt that runs past its deadline or a cancel), then returns
//                                 {"pid": <id>}. With "lock", it first takes an exclusive flock
//                                 on PATH for the rest of its process's life, and fails with
//                                 "overlap" if another process holds it: the kernel lets go of
//                                 it only when its holder ends, so two attempts whose processes
//                                 overlap in time are seen.
//   {"do": "alloc", "mb": N}      allocates N MiB and touches every page, then returns
//                                 {"allocated_mb": N}
//   {"do": "segv"}                writes through a null pointer
//   {"do": "abort"}               calls std::abort
//   {"do": "exit", "code": N}     ends its process with status N
//   {"do": "progress"}            reports progress 1, 2, 3, logs "step 1".."step 3", and returns
//                                 {"steps": 3}
//   {"do": "echo"}                returns its data as given
//   {"do": "throw"}               throws std::runtime_error("thrown on purpose")
#pragma once

#include "taskq/handler.h"

namespace taskq::testing {

HandlerResult Misbehave(JobContext& job);

}  // namespace taskq::testing
