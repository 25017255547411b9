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
