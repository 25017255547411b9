#include "bin/cli_flows.h"

#include "api/flow_json.h"
#include "api/flow_request.h"
#include "taskq/client.h"
#include "taskq/flow.h"
#include "taskq/inspector.h"

namespace taskq::bin {
namespace {

int Submit(const FlowCommands& c, const Target& target) {
  auto body = ReadInput(c.file);
  if (!body.ok()) return Fail(body.status());
  // Read as the API reads POST /api/flows; the types are the workers' business, as for enqueue.
  const ClientOptions defaults;
  auto flow = api::ParseFlowRequest(*body, "", api::JobRequestLimits{}, defaults.flow_limits,
                                    api::JobTypeCheck());
  if (!flow.ok()) return Fail(flow.status());
  auto client = Client::Open({target.redis_url, target.key_prefix});
  if (!client.ok()) return Fail(client.status());
  auto result = (*client)->SubmitFlow(*flow);
  if (!result.ok()) return Fail(result.status());
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  std::optional<FlowView> view;
  if (inspector.ok()) {
    // The states are a courtesy: the flow exists whether or not they can be read.
    if (auto read = (*inspector)->GetFlow(result->flow_id); read.ok()) view = std::move(*read);
  }
  EmitRecord(target, api::RenderSubmittedFlow(*result, view));
  return 0;
}

int Show(const FlowCommands& c, const Target& target) {
  auto inspector = Inspector::Open({target.redis_url, target.key_prefix});
  if (!inspector.ok()) return Fail(inspector.status());
  auto flow = (*inspector)->GetFlow(c.id);
  if (!flow.ok()) return Fail(flow.status());
  if (!flow->has_value()) return Fail(NotFound("no flow with id '" + c.id + "'"));
  EmitRecord(target, api::RenderFlow(**flow));
  return 0;
}

int Cancel(const FlowCommands& c, const Target& target) {
  auto client = Client::Open({target.redis_url, target.key_prefix});
  if (!client.ok()) return Fail(client.status());
  auto outcome = (*client)->CancelFlow(c.id);
  if (!outcome.ok()) return Fail(outcome.status());
  switch (*outcome) {
    case RemoveOutcome::kNotFound:
      return Fail(NotFound("no flow with id '" + c.id + "'"));
    case RemoveOutcome::kRefused:
      return Fail(Status(StatusCode::kFailedPrecondition,
                         "flow " + c.id + " has finished: nothing is left to cancel"));
    case RemoveOutcome::kRemoved:
    case RemoveOutcome::kStopRequested:
      break;
  }
  EmitRecord(target, api::RenderFlowCancel(c.id, *outcome));
  return 0;
}

}  // namespace

void AddFlowCommands(CLI::App* app, FlowCommands* c) {
  CLI::App* flows = app->add_subcommand(
      "flows",
      "submit, show or cancel a flow: a tree of jobs whose parents run after their "
      "children (docs/workflows.md)");
  flows->require_subcommand(1);
  c->submit = flows->add_subcommand("submit", "submit a flow: the body of POST /api/flows");
  c->submit->add_option("FILE", c->file, "a JSON file, or - for standard input")->required();
  c->submit->footer(
      "Example:\n"
      "  echo '{\"flow_id\":\"nightly\",\"jobs\":[{\"ref\":\"report\",\"type\":\"export\"},\n"
      "    {\"ref\":\"users\",\"parent\":\"report\",\"type\":\"export\"}]}' | "
      "taskq flows submit -");
  c->show = flows->add_subcommand("show", "print a flow's tree, as GET /api/flows/{id}");
  c->cancel = flows->add_subcommand(
      "cancel", "cancel a flow: its root and every unfinished job below it go dead, cancelled");
  for (CLI::App* sub : {c->show, c->cancel}) {
    sub->add_option("ID", c->id, "the flow's id, <queue>:<flow key>")->required();
  }
  c->show->footer("Example: taskq flows show export:nightly");
}

int RunFlowCommand(const FlowCommands& c, const Target& target) {
  if (c.submit->parsed()) return Submit(c, target);
  if (c.show->parsed()) return Show(c, target);
  if (c.cancel->parsed()) return Cancel(c, target);
  return -1;
}

}  // namespace taskq::bin
