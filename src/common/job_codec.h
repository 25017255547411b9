// The stored form of a job (its body, one Redis string) and the validation of what producers send.
//
// Body: {"c":<created ms>,"t":"<type>","d":<data object>,"o":{<options that differ from defaults>}}
// "c" is added by the enqueue script from Redis' clock. "t" is left out when the type is the
// queue's name (the common case), and options at their defaults are left out, which keeps a
// typical body near its data's size (docs/redis-keys.md has the memory budget).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "taskq/enqueue_options.h"
#include "taskq/status.h"

namespace taskq {

struct JobLimits {
  size_t max_data_bytes = 512 * 1024;
  int max_json_depth = 32;
};

// Queue names and job types: 1..64 of [A-Za-z0-9_.-], starting with a letter or digit. They become
// part of Redis keys, so braces (hash tags) and colons (separators) are excluded.
Status ValidateName(std::string_view field, std::string_view name);
// Job ids: 1..128 of [A-Za-z0-9_.:-].
Status ValidateJobId(std::string_view id);
Status ValidateOptions(const EnqueueOptions& options);

// Validates type, data and options and builds the body (without "c").
Result<std::string> EncodeJobBody(std::string_view type, std::string_view data_json,
                                  const EnqueueOptions& options, const JobLimits& limits);

struct DecodedBody {
  int64_t created_ms = 0;
  std::string type;
  std::string data_json;
  EnqueueOptions options;
};

// `queue`: the job's queue, its type when the body names none.
Result<DecodedBody> DecodeJobBody(std::string_view body, std::string_view queue);

}  // namespace taskq
