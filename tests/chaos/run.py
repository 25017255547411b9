#!/usr/bin/python3
"""Runs the chaos scenarios and prints one JSON object per scenario, one per line.

    run.py [--quick] [--only F3[,F5...]] [--build-dir build] [--keep]

Exits 1 when any scenario breaks a rule (checker.violations: unexpected > 0, lost > 0 except
F3b, duplicated > in_flight_at_fault, faults == 0, or a scenario's own check), or fails to run.
"""
import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback

import cluster_scenarios
import edge_scenarios
import flow_scenarios
import scenarios
from checker import violations
from processes import copy_binary

# In priority order; F14 only without --quick. F4 (Sentinel) is not implemented:
# docs/reliability.md says why.
SCENARIOS = [
    ("F1", scenarios.f1_kill_workers),
    ("F19", scenarios.f19_callbacks_under_worker_kills),
    ("F21", flow_scenarios.f21_flows_under_worker_kills),
    ("F22", scenarios.f22_batches_under_worker_kills),
    ("F23", flow_scenarios.f23_flows_across_queues_under_worker_kills),
    ("F20", scenarios.f20_backpressure_lifo_pause),
    ("F13", scenarios.f13_sigterm_workers),
    ("F15", scenarios.f15_overrunning_handlers),
    ("F12", scenarios.f12_crashing_jobs),
    ("F3", scenarios.f3_redis_crash_fsync_always),
    ("F3b", scenarios.f3b_redis_crash_fsync_everysec),
    ("F2", scenarios.f2_sigstop_worker),
    ("F5", scenarios.f5_blackhole_worker_link),
    ("F6", scenarios.f6_latency),
    ("F7", edge_scenarios.f7_out_of_memory),
    ("F8", edge_scenarios.f8_kill_api),
    ("F9", edge_scenarios.f9_kill_scheduler_leader),
    ("F10", edge_scenarios.f10_webhook_target_faults),
    ("F11", edge_scenarios.f11_clock_skew),
    ("F16", cluster_scenarios.f16_failover),
    ("F17", cluster_scenarios.f17_kill_master),
    ("F18", cluster_scenarios.f18_move_slot),
    ("F24", cluster_scenarios.f24_kill_shard_master),
    ("F25", cluster_scenarios.f25_shares_under_worker_kills),
    ("F14", scenarios.f14_mixed),
]
LOSS_REPORTED_ONLY = {"F3b"}
REQUIRED = ["scenario", "faults", "acked", "lost", "unexpected", "duplicated",
            "in_flight_at_fault", "seconds"]


def run_one(name, function, settings, keep):
    started = time.monotonic()
    first_cluster = len(settings.clusters)
    try:
        result = function(settings)
    except Exception as e:  # a harness failure fails the scenario, with what happened
        traceback.print_exc(file=sys.stderr)
        result = {"faults": 0, "acked": 0, "lost": 0, "unexpected": 0, "duplicated": 0,
                  "in_flight_at_fault": 0, "violations": [f"scenario failed to run: {e!r}"]}
    clusters = settings.clusters[first_cluster:]
    for cluster in clusters:
        result.setdefault("violations", []).extend(cluster.crashes)
    result["violations"] = violations(result, loss_reported_only=name in LOSS_REPORTED_ONLY)
    result["scenario"] = name
    result["seconds"] = round(time.monotonic() - started, 1)
    ordered = {key: result[key] for key in REQUIRED}
    ordered.update((k, v) for k, v in result.items() if k not in ordered)
    ordered["ok"] = not result["violations"]
    for cluster in clusters:  # a failed scenario's logs are kept for the investigation
        cluster.remove(keep_logs=keep or not ordered["ok"])
    return ordered


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every scenario but F14, short")
    parser.add_argument("--only", action="append", default=[],
                        help="scenario names, comma-separated or repeated (e.g. F3,F3b)")
    parser.add_argument("--build-dir", default="build", help="where the taskq binary is")
    parser.add_argument("--keep", action="store_true",
                        help="keep every scenario's logs (a failed scenario's are always kept)")
    parser.add_argument("--seed", type=int, help="seed of the random fault choices")
    args = parser.parse_args()

    binary = os.path.join(args.build_dir, "taskq")
    test_worker = os.path.join(args.build_dir, "tests", "taskq_test_worker")
    for path in (binary, test_worker):
        if not os.access(path, os.X_OK):
            print(f"chaos: no binary at {path}; build it first (scripts/build release)",
                  file=sys.stderr)
            return 2
    known = {name.lower(): name for name, _ in SCENARIOS}
    only = [n.strip().lower() for value in args.only for n in value.split(",") if n.strip()]
    unknown = [n for n in only if n not in known]
    if unknown:
        print(f"chaos: unknown scenario(s) {unknown}; known: {list(known.values())}",
              file=sys.stderr)
        return 2
    if only:
        chosen = [(n, f) for n, f in SCENARIOS if n.lower() in only]
    else:
        chosen = [(n, f) for n, f in SCENARIOS if not (args.quick and n == "F14")]

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    # SIGTERM (CI's timeout, a user's kill) ends the run through the normal cleanup path.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    private = tempfile.mkdtemp(prefix="taskq-chaos-bin-")
    started = time.monotonic()
    failed = []
    try:
        settings = scenarios.Settings(copy_binary(binary, private), args.quick,
                                      copy_binary(test_worker, private))
        print(f"chaos: {len(chosen)} scenario(s), seed {seed}", file=sys.stderr)
        for name, function in chosen:
            print(f"chaos: {name} ...", file=sys.stderr)
            result = run_one(name, function, settings, args.keep)
            print(json.dumps(result), flush=True)
            if not result["ok"]:
                failed.append(name)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    total = time.monotonic() - started
    verdict = f"failed: {', '.join(failed)}" if failed else "all passed"
    print(f"chaos: {len(chosen)} scenario(s) in {total:.0f} s, {verdict}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
