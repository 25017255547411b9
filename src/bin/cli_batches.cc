#include "bin/cli_batches.h"

#include "api/batch_json.h"
#include "api/batch_request.h"
#include "common/flow_ids.h"
#include "taskq/batch.h"
#include "taskq/client.h"
#include "taskq/inspector.h"

namespace taskq::bin {
namespace {

// The CLI's own limits: the API's flags do not apply here, only what one script call takes.
BatchLimits CliLimits() {
  BatchLimits limits;
  limits.max_jobs = kMaxBatchJobs;
  return limits;
}

Result<std::unique_ptr<Client>> OpenClient(const Target& target) {
  ClientOptions options{target.redis_url, target.key_prefix};
  options.batch_limits = CliLimits();
  return Client::Open(std::move(options));
}

Status BatchNotFound(const std::string& id) { return NotFound("no batch with id '" + id + "'"); }

int Create(const BatchCommands& c, const Target& target) {
  auto body = ReadInput(c.file);
  if (!body.ok()) return Fail(body.status());
  // Read as the API reads POST /api/batches; the types are the workers' business, as for enqueue.
  auto batch =
      api::ParseBatchRequest(*body, "", api::JobRequestLimits{}, CliLimits(), api::JobTypeCheck());
  if (!batch.ok()) return Fail(batch.status());
  auto client = OpenClient(target);
  if (!client.ok()) return Fail(client.status());
  auto result = (*client)->SubmitBatch(*batch);
  if (!result.ok()) return Fail(result.status());
  std::optional<BatchView> view;
  if (auto inspector = Inspector::Open({target.redis_url, target.key_prefix}); inspector.ok()) {
    // The state is a courtesy: the batch exists whether or not it can be read.
    auto read = (*inspector)->GetBatch(result->batch_id);
    if (read.ok() && read->has_value()) view = std::move(**read);
  }
  EmitRecord(target, api::RenderSubmittedBatch(*result, view));
  return 0;
}

int Add(const BatchCommands& c, const Target& target) {
  auto address = ParseFlowId(c.id);
  if (!address.ok()) return Fail(address.status());
  auto body = ReadInput(c.file);
  if (!body.ok()) return Fail(body.status());
  auto addition = api::ParseBatchAddition(*body, "", address->queue, api::JobRequestLimits{},
                                          CliLimits(), api::JobTypeCheck());
  if (!addition.ok()) return Fail(addition.status());
  auto client = OpenClient(target);
  if (!client.ok()) return Fail(client.status());
  auto result = (*client)->AddToBatch(c.id, *addition);
  if (!result.ok()) return Fail(result.status());
  EmitRecord(target, api::RenderBatchAddition(*result));
  return 0;
}

int Close(const BatchCommands& c, const Target& target) {
  auto client = OpenClient(target);
  if (!client.ok()) return Fail(client.status());
  auto closed = (*client)->CloseBatch(c.id);
  if (!closed.ok()) return Fail(closed.status());
  EmitRecord(target, api::RenderBatchOutcome(c.id, *closed ? "closed" : "already_closed"));
  return 0;
}

int Show(const BatchCommands& c, const Target& target) {
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  auto batch = (*inspector)->GetBatch(c.id);
  if (!batch.ok()) return Fail(batch.status());
  if (!batch->has_value()) return Fail(BatchNotFound(c.id));
  EmitRecord(target, api::RenderBatch(**batch));
  return 0;
}

int Cancel(const BatchCommands& c, const Target& target) {
  auto client = OpenClient(target);
  if (!client.ok()) return Fail(client.status());
  auto outcome = (*client)->CancelBatch(c.id);
  if (!outcome.ok()) return Fail(outcome.status());
  switch (*outcome) {
    case RemoveOutcome::kNotFound:
      return Fail(BatchNotFound(c.id));
    case RemoveOutcome::kRefused:
      return Fail(Status(StatusCode::kFailedPrecondition,
                         "batch " + c.id +
                             " has finished or was cancelled: nothing is left to "
                             "cancel"));
    case RemoveOutcome::kRemoved:
    case RemoveOutcome::kStopRequested:
      break;
  }
  EmitRecord(target, api::RenderBatchOutcome(c.id, "cancelled"));
  return 0;
}

}  // namespace

void AddBatchCommands(CLI::App* app, BatchCommands* c) {
  CLI::App* batches = app->add_subcommand(
      "batches",
      "create, add to, close, show or cancel a batch: independent jobs in one queue with "
      "callbacks that run once they settled (docs/workflows.md)");
  batches->require_subcommand(1);
  c->create = batches->add_subcommand("create", "create a batch: the body of POST /api/batches");
  c->add = batches->add_subcommand(
      "add", "add jobs to a batch that has not finished: the body of POST /api/batches/{id}/jobs");
  c->close = batches->add_subcommand(
      "close", "close an open batch: its callbacks run once every member settled");
  c->show = batches->add_subcommand("show", "print a batch, as GET /api/batches/{id}");
  c->cancel = batches->add_subcommand(
      "cancel", "cancel a batch: its unfinished members and held callbacks go dead, cancelled");
  for (CLI::App* sub : {c->add, c->close, c->show, c->cancel}) {
    sub->add_option("ID", c->id, "the batch's id, <queue>:<batch key>")->required();
  }
  for (CLI::App* sub : {c->create, c->add}) {
    sub->add_option("FILE", c->file, "a JSON file, or - for standard input")->required();
  }
  c->create->footer(
      "Example:\n"
      "  echo '{\"batch_id\":\"import-7\",\"jobs\":[{\"type\":\"export\",\"data\":{\"n\":1}},\n"
      "    {\"type\":\"export\",\"data\":{\"n\":2}}],\"on_complete\":{\"type\":\"export\"}}' | "
      "taskq batches create -");
  c->add->footer(
      "Example: echo '{\"jobs\":[{\"type\":\"export\"}]}' | taskq batches add export:import-7 -");
}

int RunBatchCommand(const BatchCommands& c, const Target& target) {
  if (c.create->parsed()) return Create(c, target);
  if (c.add->parsed()) return Add(c, target);
  if (c.close->parsed()) return Close(c, target);
  if (c.show->parsed()) return Show(c, target);
  if (c.cancel->parsed()) return Cancel(c, target);
  return -1;
}

}  // namespace taskq::bin
