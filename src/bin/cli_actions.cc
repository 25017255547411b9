#include "bin/cli_actions.h"

#include <cstdio>

#include "api/job_json.h"
#include "common/json_text.h"
#include "taskq/client.h"
#include "taskq/inspector.h"

namespace taskq::bin {
namespace {

const char* OutcomeName(RemoveOutcome outcome) {
  switch (outcome) {
    case RemoveOutcome::kRemoved:
      return "removed";
    case RemoveOutcome::kStopRequested:
      return "stop_requested";
    case RemoveOutcome::kRefused:
      return "refused";
    case RemoveOutcome::kNotFound:
      break;
  }
  return "not_found";
}

// The job `id`, in `queue` when given, else in whichever queue holds it.
Result<Job> FindJob(Inspector& inspector, const std::string& id, const std::string& queue) {
  auto job = inspector.Find(id, queue);
  if (!job.ok()) return job.status();
  if (!job->has_value()) {
    return NotFound("no job with id '" + id + "'" + (queue.empty() ? "" : " in queue " + queue));
  }
  return std::move(**job);
}

int QueueAction(const ActionCommands& c, const Target& target, Inspector& inspector) {
  if ((c.pause->parsed() || c.resume->parsed()) && c.all) {
    const bool pausing = c.pause->parsed();
    auto changed = pausing ? inspector.PauseAll() : inspector.ResumeAll();
    if (!changed.ok()) return Fail(changed.status());
    EmitRecord(target, std::string("{\"paused\":") + (pausing ? "true" : "false") +
                           ",\"changed\":" + std::to_string(*changed) + "}");
    return 0;
  }
  if (c.pause->parsed() || c.resume->parsed()) {
    if (c.queue.empty()) return Fail(InvalidArgument("queue", "name a queue, or --all"));
    const bool pausing = c.pause->parsed();
    auto changed = pausing ? inspector.Pause(c.queue) : inspector.Resume(c.queue);
    if (!changed.ok()) return Fail(changed.status());
    EmitRecord(target, "{\"queue\":" + JsonString(c.queue) +
                           ",\"paused\":" + (pausing ? "true" : "false") +
                           ",\"changed\":" + (*changed ? "true" : "false") + "}");
    return 0;
  }
  if (c.clean->parsed()) {
    const auto state = ParseJobState(c.state);
    if (!state || (*state != JobState::kCompleted && *state != JobState::kDead)) {
      return Fail(InvalidArgument("--state", "must be completed or dead"));
    }
    auto removed =
        inspector.Clean(c.queue, *state, std::chrono::milliseconds(c.older_than_ms), c.limit);
    if (!removed.ok()) return Fail(removed.status());
    EmitRecord(target, "{\"queue\":" + JsonString(c.queue) + ",\"state\":" + JsonString(c.state) +
                           ",\"removed\":" + std::to_string(*removed) + "}");
    return 0;
  }
  auto moved = inspector.RetryDead(c.queue, c.ids, c.limit);
  if (!moved.ok()) return Fail(moved.status());
  EmitRecord(target,
             "{\"queue\":" + JsonString(c.queue) + ",\"retried\":" + std::to_string(*moved) + "}");
  return 0;
}

int JobAction(const ActionCommands& c, const Target& target, Inspector& inspector) {
  auto job = FindJob(inspector, c.id, c.queue);
  if (!job.ok()) return Fail(job.status());
  const std::string head =
      "{\"id\":" + JsonString(job->id) + ",\"queue\":" + JsonString(job->queue);
  if (c.show->parsed()) {
    EmitRecord(target, api::RenderJob(*job, /*detail=*/true, api::DataView{}));
    return 0;
  }
  if (c.promote->parsed()) {
    auto promoted = inspector.Promote(job->queue, job->id);
    if (!promoted.ok()) return Fail(promoted.status());
    if (!*promoted) {
      return Fail(Status(StatusCode::kFailedPrecondition,
                         "job " + job->id + " is " + JobStateName(job->state) +
                             "; only delayed or retrying jobs can be promoted"));
    }
    EmitRecord(target, head + ",\"state\":\"waiting\"}");
    return 0;
  }
  Result<RemoveOutcome> outcome = RemoveOutcome::kNotFound;
  if (c.cancel->parsed()) {
    auto client = Client::Open({target.redis_url, target.key_prefix});
    if (!client.ok()) return Fail(client.status());
    outcome = (*client)->Cancel(job->queue, job->id);
  } else {
    outcome = inspector.Remove(job->queue, job->id);
  }
  if (!outcome.ok()) return Fail(outcome.status());
  if (*outcome == RemoveOutcome::kRefused) {
    return Fail(Status(StatusCode::kFailedPrecondition,
                       "job " + job->id + " is " + JobStateName(job->state) + "; " +
                           (c.cancel->parsed() ? "a finished job cannot be cancelled"
                                               : "a running job cannot be removed (cancel it)")));
  }
  EmitRecord(target, head + ",\"outcome\":" + JsonString(OutcomeName(*outcome)) + "}");
  return *outcome == RemoveOutcome::kNotFound ? 1 : 0;
}

}  // namespace

void AddActionCommands(CLI::App* app, ActionCommands* c) {
  c->pause = app->add_subcommand("pause", "pause a queue: workers start none of its jobs");
  c->resume = app->add_subcommand("resume", "resume a paused queue");
  for (CLI::App* sub : {c->pause, c->resume}) {
    CLI::Option* all = sub->add_flag("--all", c->all, "every queue taskq knows");
    sub->add_option("queue", c->queue, "the queue")->excludes(all);
    sub->footer("Examples:\n  taskq pause email\n  taskq resume --all");
  }
  c->clean = app->add_subcommand("clean", "remove a queue's completed or dead jobs");
  c->clean->add_option("queue", c->queue, "the queue")->required();
  c->clean->add_option("--state", c->state, "completed or dead");
  c->clean->add_option("--older-than-ms", c->older_than_ms, "finished at least this long ago")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  c->clean->add_option("--limit", c->limit, "at most this many")->check(CLI::Range(1, 100000));
  c->clean->footer("Example: taskq clean email --state dead --older-than-ms 604800000");
  c->retry_dead = app->add_subcommand(
      "retry-dead", "retry a queue's dead jobs: those named, else the oldest --limit");
  c->retry_dead->add_option("queue", c->queue, "the queue")->required();
  c->retry_dead->add_option("ids", c->ids, "the dead jobs' ids (default: the oldest --limit)");
  c->retry_dead->add_option("--limit", c->limit, "at most this many")->check(CLI::Range(1, 1000));
  c->retry_dead->footer("Example: taskq retry-dead webhook --limit 100");
  c->show = app->add_subcommand("show", "print one job as JSON, as GET /api/jobs/{id}");
  c->cancel = app->add_subcommand(
      "cancel", "cancel a job: removed if it has not started, else its worker stops it");
  c->promote = app->add_subcommand("promote", "run a delayed or retrying job now");
  c->remove = app->add_subcommand("remove", "remove a job that is not running, with its keys");
  for (CLI::App* sub : {c->show, c->cancel, c->promote, c->remove}) {
    sub->add_option("id", c->id, "the job's id")->required();
    sub->add_option("--queue", c->queue, "its queue (default: look in every queue)");
  }
  c->show->footer("Example: taskq show 0PKN3R2W8K5GH7TQ1ZMD --queue email");
}

int RunActionCommand(const ActionCommands& c, const Target& target) {
  const bool queue_action =
      c.pause->parsed() || c.resume->parsed() || c.clean->parsed() || c.retry_dead->parsed();
  const bool job_action =
      c.show->parsed() || c.cancel->parsed() || c.promote->parsed() || c.remove->parsed();
  if (!queue_action && !job_action) return -1;
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  return queue_action ? QueueAction(c, target, **inspector) : JobAction(c, target, **inspector);
}

}  // namespace taskq::bin
