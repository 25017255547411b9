"""The history checker: Jepsen's total-queue checker over what producers and the sink saw.

Inputs are the producers' enqueue outcomes (key -> "ok" | "refused" | "unknown") and the ids
the sink delivered (one entry per delivery, repeats included). After the queue is drained:

  lost        acknowledged (ok) and never delivered
  unexpected  delivered but never attempted, or delivered although the API refused it (a 4xx
              promises that nothing was written)
  duplicated  distinct ids delivered more than once (at-least-once delivery allows these only
              for jobs in flight when a fault hit; the scenario bounds them)
  recovered   unknown outcomes that were delivered: fine, the enqueue took effect
Unknown outcomes that were never delivered are fine too: the enqueue did not take effect.
"""
from collections import Counter

SAMPLE = 5  # ids quoted per kind of anomaly, to start an investigation from


def check_total_queue(outcomes, delivered_ids):
    """outcomes: key -> outcome; delivered_ids: iterable of ids, one per delivery."""
    deliveries = Counter(delivered_ids)
    acked = {k for k, o in outcomes.items() if o == "ok"}
    refused = {k for k, o in outcomes.items() if o == "refused"}
    unknown = {k for k, o in outcomes.items() if o == "unknown"}
    delivered = set(deliveries)
    lost = acked - delivered
    unexpected = (delivered - set(outcomes)) | (delivered & refused)
    duplicated = {k for k, n in deliveries.items() if n > 1}
    return {
        "attempted": len(outcomes),
        "acked": len(acked),
        "refused": len(refused),
        "unknown": len(unknown),
        "recovered": len(unknown & delivered),
        "delivered": len(delivered),
        "deliveries": sum(deliveries.values()),
        "lost": len(lost),
        "unexpected": len(unexpected),
        "duplicated": len(duplicated),
        "samples": {name: sorted(ids)[:SAMPLE] for name, ids in
                    (("lost", lost), ("unexpected", unexpected), ("duplicated", duplicated))
                    if ids},
    }


def check_callbacks(jobs_done, records):
    """Completion callbacks (F19). jobs_done: id -> when the job's delivery was answered (the
    earliest, unix seconds) for every job that completed; records: the sink's records. Each job
    owes one callback: lost when none arrived, doubled when two webhook ids (two callback jobs)
    claim it, early when one arrived before the job's delivery was answered."""
    ids_per_job, first = {}, {}
    repeated = Counter()
    for r in records:
        if "cbj" not in r or r["status"] != 200 or r["listener"] != "main":
            continue
        ids_per_job.setdefault(r["cbj"], set()).add(r["id"])
        repeated[r["id"]] += 1
        first[r["cbj"]] = min(first.get(r["cbj"], r["t"]), r["t"])
    lost = {j for j in jobs_done if j not in ids_per_job}
    doubled = {j for j, ids in ids_per_job.items() if len(ids) > 1}
    unexpected = set(ids_per_job) - set(jobs_done)
    early = {j for j in jobs_done if j in first and first[j] < jobs_done[j]}
    return {
        "callbacks_owed": len(jobs_done),
        "callbacks_lost": len(lost),
        "callbacks_doubled": len(doubled),
        "callbacks_unexpected": len(unexpected),
        "callbacks_early": len(early),
        "callback_ids_delivered_twice": sum(1 for n in repeated.values() if n > 1),
        "callback_samples": {name: sorted(ids)[:SAMPLE] for name, ids in
                             (("lost", lost), ("doubled", doubled), ("unexpected", unexpected),
                              ("early", early)) if ids},
    }


def _answered_requests(records):
    """The producers' jobs' requests the sink answered (200, or 500 for a failing attempt), per
    job id: (how many, when the first arrived, when the last was answered)."""
    requests, first_start, last_answer = Counter(), {}, {}
    for r in records:
        if r["listener"] != "main" or "cbj" in r or r["status"] not in (200, 500):
            continue
        requests[r["id"]] += 1
        first_start[r["id"]] = min(first_start.get(r["id"], r["t"]), r["t"])
        last_answer[r["id"]] = max(last_answer.get(r["id"], r["t_end"]), r["t_end"])
    return requests, first_start, last_answer


def check_flows(flows, records):
    """Flows (F21, F23). flows: flow key -> {"outcome": "ok" | "refused" | "unknown", "must_run":
    [job ids], "never_run": [job ids], "children": {parent id: [child ids]}}; records: the sink's
    records, one per request (a failing child's attempts are answered 500).

      flows_lost      a job of an acknowledged flow that must run and never ran (a failing
                      child "ran" when one of its attempts reached the sink)
      flows_partial   a flow whose submission's outcome was unknown, of which some but not all
                      jobs that must run ran: a flow is committed whole or not at all
      flows_forbidden a job that must never run (a parent failed by a child, and the parents
                      above it) that ran, or any job of a refused flow
      flows_early     a parent whose first request came before the answer to one of its
                      children's requests: parents run after their children settled
    """
    requests, first_start, last_answer = _answered_requests(records)
    ran = set(requests)
    lost, partial, forbidden, early = set(), set(), set(), set()
    for key, flow in flows.items():
        must = set(flow["must_run"])
        if flow["outcome"] == "refused":
            forbidden |= (must | set(flow["never_run"])) & ran
            continue
        forbidden |= set(flow["never_run"]) & ran
        if flow["outcome"] == "ok":
            lost |= must - ran
        elif must & ran and must - ran:
            partial.add(key)
        for parent, children in flow["children"].items():
            if parent not in first_start:
                continue
            if any(c in last_answer and last_answer[c] > first_start[parent] for c in children):
                early.add(parent)
    return {
        "flows": len(flows),
        "flows_lost": len(lost),
        "flows_partial": len(partial),
        "flows_forbidden": len(forbidden),
        "flows_early": len(early),
        "flow_samples": {name: sorted(ids)[:SAMPLE] for name, ids in
                         (("lost", lost), ("partial", partial), ("forbidden", forbidden),
                          ("early", early)) if ids},
    }


def check_batches(batches, records):
    """Batches (F22). batches: batch key -> {"outcome": "ok" | "refused" | "unknown", "members":
    [job ids], "failing": bool (a member that never succeeds), "on_complete": id, "on_success":
    id}; records: the sink's records, one per request.

      batch_callbacks_lost      an acknowledged batch whose on_complete never ran, or whose
                                on_success never ran though every member succeeded
      batch_callbacks_forbidden an on_success that ran in a batch with a failing member, or a
                                callback of a refused batch
      batch_callbacks_early     a callback whose first request came before the answer to one of
                                its members' requests: callbacks run after every member settled
      batch_callbacks_twice     callbacks requested more than once (bounded, like duplicates, by
                                the jobs in flight at the faults: a kill mid-request repeats one)
    """
    requests, first_start, last_answer = _answered_requests(records)
    lost, forbidden, early, twice = set(), set(), set(), set()
    for batch in batches.values():
        callbacks = (batch["on_complete"], batch["on_success"])
        if batch["outcome"] == "refused":
            forbidden |= {c for c in callbacks if c in requests}
            continue
        if batch["failing"] and batch["on_success"] in requests:
            forbidden.add(batch["on_success"])
        if batch["outcome"] == "ok":
            if batch["on_complete"] not in requests:
                lost.add(batch["on_complete"])
            if not batch["failing"] and batch["on_success"] not in requests:
                lost.add(batch["on_success"])
        for callback in callbacks:
            if callback not in first_start:
                continue
            if requests[callback] > 1:
                twice.add(callback)
            if any(m in last_answer and last_answer[m] > first_start[callback]
                   for m in batch["members"]):
                early.add(callback)
    return {
        "batches": len(batches),
        "batch_callbacks_lost": len(lost),
        "batch_callbacks_forbidden": len(forbidden),
        "batch_callbacks_early": len(early),
        "batch_callbacks_twice": len(twice),
        "batch_samples": {name: sorted(ids)[:SAMPLE] for name, ids in
                          (("lost", lost), ("forbidden", forbidden), ("early", early),
                           ("twice", twice)) if ids},
    }


def violations(result, loss_reported_only=False):
    """The suite's pass rules for one scenario's result; scenario-specific checks add theirs to
    result["violations"] beforehand."""
    found = list(result.get("violations", []))
    if result["faults"] == 0:
        found.append("no fault was injected")
    if result["unexpected"] > 0:
        found.append(f"{result['unexpected']} unexpected deliveries")
    if result["lost"] > 0 and not loss_reported_only:
        found.append(f"{result['lost']} acknowledged jobs lost")
    if result["duplicated"] > result["in_flight_at_fault"]:
        found.append(f"{result['duplicated']} duplicated > {result['in_flight_at_fault']} "
                     "in flight at fault time")
    return found
