#!/usr/bin/env python3
"""Redis time of the job scripts per job, measured by Redis itself: a steadier A/B figure than
end-to-end throughput on a noisy machine (W2 runs vary more than the differences they compare).

Runs N jobs through bulk enqueue (1000 per call), then claim 128 + complete 128 until drained,
against a redis-server of its own, using the scripts embedded in a build
(BUILD/src/embedded_scripts.cc), and prints the `evalsha` microseconds per job of each step
(INFO commandstats). Compare two builds by running it on each, interleaved, a few times.

  bench/script_cost.py --build build [--jobs 64000] [--rate]   (--rate: a 10^8/s rate limit)

--batch writes the jobs as batches instead (batch_commit.lua, 1000 members and an on_complete
callback per call, each member's body carrying its place as Client::SubmitBatch encodes it),
then drains them the same way (the callbacks too, counted with the jobs): what a batch's
members cost against the same jobs enqueued, step by step (W7, bench/README.md).
"""
import argparse
import json
import os
import re
import socket
import subprocess
import tempfile
import time


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Redis:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = self.sock.makefile("rb")

    def cmd(self, *args):
        self.sock.sendall(encode(*args))
        return self.read()

    def read(self):
        line = self.reader.readline()
        kind, value = line[:1], line[1:-2]
        if kind == b"+":
            return value.decode()
        if kind == b"-":
            raise RuntimeError(value.decode())
        if kind == b":":
            return int(value)
        if kind == b"$":
            n = int(value)
            return None if n < 0 else self.reader.read(n + 2)[:-2]
        n = int(value)
        return None if n < 0 else [self.read() for _ in range(n)]


def embedded_scripts(build):
    text = open(os.path.join(build, "src", "embedded_scripts.cc")).read()
    return {m.group(1): m.group(2) for m in
            re.finditer(r'\{"([a-z_]+)", "[0-9a-f]+", R"taskq_lua\((.*?)\)taskq_lua"', text, re.S)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--jobs", type=int, default=64000)
    parser.add_argument("--rate", action="store_true")
    parser.add_argument("--batch", action="store_true")
    opts = parser.parse_args()
    scripts = embedded_scripts(opts.build)
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="taskq-script-cost-")
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", workdir],
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                r = Redis(port)
                r.cmd("PING")
                break
            except OSError:
                time.sleep(0.02)
        sha = {name: r.cmd("SCRIPT", "LOAD", body) for name, body in scripts.items()
               if name in ("enqueue", "claim", "complete", "queue_limits", "batch_commit")}
        base = "taskq:{q}:"
        if opts.rate:
            r.cmd("EVALSHA", sha["queue_limits"], 2, base + "meta", base + "rl", base,
                  100000000, 1000, 0, 0, 1000, 0, "", 0)

        def take():  # evalsha microseconds since the last call
            info = r.cmd("INFO", "commandstats").decode()
            r.cmd("CONFIG", "RESETSTAT")
            m = re.search(r"cmdstat_evalsha:calls=\d+,usec=(\d+)", info)
            return int(m.group(1)) if m else 0

        take()
        body = b'{"t":"email","d":{}}'
        total = opts.jobs  # every job claimed and completed, batch callbacks too
        for b in range(opts.jobs // 1000):
            if not opts.batch:
                args = [base, 1000]
                for i in range(1000):
                    args += ["j%d_%d" % (b, i), body, ""]
                r.cmd("EVALSHA", sha["enqueue"], 5, *[base + k for k in
                      ("wait", "prio", "delayed", "meta", "state")], *args)
                continue
            u = "b%d" % b
            args = [base, u, 604800000, "0", "", 1001]
            for i in range(1000):
                member = ('{"t":"email","d":{},"o":{"flow":{"id":"q:%s","ref":"%d","parent":"*",'
                          '"batch":true}}}' % (u, i))
                args += [str(i), "*", "fail", "%s.%d" % (u, i), member, "0:0:-1"]
            callback = ('{"t":"email","d":{},"o":{"flow":{"id":"q:%s","ref":"on_complete",'
                        '"parent":"^","kids":true,"batch":true}}}' % u)
            args += ["on_complete", "^", "fail", u + ".on_complete", callback, "0:0:-1"]
            r.cmd("EVALSHA", sha["batch_commit"], 6, *[base + k for k in
                  ("wait", "prio", "delayed", "meta", "state", "held")], *args)
            total += 1
        enqueue = take()
        claim_keys = [base + k for k in ("wait", "prio", "delayed", "retry", "active", "meta",
                                         "state")]
        if "KEYS[8]" in scripts["claim"]:
            claim_keys.append(base + "rl")
        claim = complete = done = 0
        while done < total:
            reply = r.cmd("EVALSHA", sha["claim"], len(claim_keys), *claim_keys, base, 128,
                          30000, 1000)
            claim += take()
            count = reply[4]
            old_reply = len(reply) == 5 + 4 * count  # builds whose claim sent a token per job
            args = [base, count, 1000, 86400000]
            for i in range(count):  # newer builds: the claim's token once, then "" ("the same")
                token = reply[8 + 4 * i] if old_reply else (reply[5] if i == 0 else "")
                args += [reply[5 + 4 * i] if old_reply else reply[6 + 3 * i], token, "null"]
            r.cmd("EVALSHA", sha["complete"], 5, *[base + k for k in
                  ("active", "completed", "meta", "state", "result")], *args)
            complete += take()
            done += count
        n = opts.jobs
        print(json.dumps({"batch": opts.batch,
                          "enqueue_us_per_job": round(enqueue / n, 3),
                          "claim_us_per_job": round(claim / n, 3),
                          "complete_us_per_job": round(complete / n, 3),
                          "total_us_per_job": round((enqueue + claim + complete) / n, 3),
                          "rate_limited": opts.rate}))
    finally:
        server.terminate()
        server.wait(10)
        subprocess.run(["rm", "-rf", workdir])


if __name__ == "__main__":
    main()
