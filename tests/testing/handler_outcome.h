// Reading what a handler returned, for tests that call a handler directly.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "taskq/handler.h"

namespace taskq::testing {

// The result object of a run that must succeed: a test failure naming the handler's message, and
// an empty object, when it did not succeed or its result is not an object.
inline boost::json::object SuccessObjectOf(const HandlerResult& result) {
  EXPECT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.message;
  if (result.kind != HandlerResult::Kind::kSuccess) return {};
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(result.result_json, error);
  EXPECT_TRUE(!error && value.is_object()) << result.result_json;
  return !error && value.is_object() ? std::move(value.as_object()) : boost::json::object{};
}

}  // namespace taskq::testing
