#include "script_fixture.h"

namespace taskq::testing {
std::unique_ptr<RedisServer> ScriptTest::server_;
}
