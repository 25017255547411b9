// The loop the randomized tests share: episodes of one kind of run, from a seed, one seed after
// another, until the budget has passed or an episode fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>

namespace taskq::model {

template <typename RunResult>
struct ExploredEpisodes {
  RunResult failure;  // failed: the first episode that failed
  uint64_t seed = 0;  // the failed episode's
  int64_t steps = 0;
  int64_t episodes = 0;
  double seconds = 0;  // until the failure, or the whole budget
  std::map<std::string, int64_t> counts;
};

// `run.RunEpisode(seed, steps_per_episode)` returns a result with `failed`, `steps` and
// `counts` (steps run, by kind).
template <typename Run>
auto ExploreEpisodes(Run& run, uint64_t seed, std::chrono::seconds budget, int steps_per_episode) {
  using Clock = std::chrono::steady_clock;
  ExploredEpisodes<decltype(run.RunEpisode(seed, steps_per_episode))> out;
  const auto start = Clock::now();
  for (uint64_t episode = 0; Clock::now() < start + budget; ++episode) {
    auto result = run.RunEpisode(seed + episode, steps_per_episode);
    ++out.episodes;
    out.steps += result.steps;
    for (const auto& [kind, n] : result.counts) out.counts[kind] += n;
    if (result.failed) {
      out.failure = std::move(result);
      out.seed = seed + episode;
      break;
    }
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

// The first seed of a test: TASKQ_MODEL_SEED, else one from the clock (printed either way by
// PrintExplored, so that a failure can be replayed).
inline uint64_t FirstSeed() {
  const char* given = std::getenv("TASKQ_MODEL_SEED");
  if (given != nullptr && *given != '\0') return std::strtoull(given, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count() %
                               1000000);
}

// Prints the steps, the seed, the episodes and the steps by kind, each line led by `what`.
template <typename Explored>
void PrintExplored(const char* what, uint64_t seed, const Explored& out) {
  std::printf("%s: steps=%lld seed=%llu episodes=%lld\n", what, static_cast<long long>(out.steps),
              static_cast<unsigned long long>(seed), static_cast<long long>(out.episodes));
  for (const auto& [kind, n] : out.counts) {
    std::printf("%s:   %-24s %lld\n", what, kind.c_str(), static_cast<long long>(n));
  }
}

// Prints where a test with a defect put back found it.
template <typename Explored>
void PrintDefectFound(const char* what, const std::string& defect, const Explored& out) {
  std::printf("%s: defect %s found in %.1f s at step %d of episode seed %llu (%lld steps): %s\n",
              what, defect.c_str(), out.seconds, out.failure.failed_at_step,
              static_cast<unsigned long long>(out.seed), static_cast<long long>(out.steps),
              out.failure.message.c_str());
}

}  // namespace taskq::model
