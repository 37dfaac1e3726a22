#!/usr/bin/env python3
"""Checks the answers of docs/teaching/exercises.md against real runs.

Each exercise's answer is written in the document as "**Answer N:** `VALUE`".
For each N this script runs the scenario the exercise names and computes the
value from the run's JSON trace (or captures), then compares it with the
document's. An exercise without a computation here, or a computation without
an answer there, fails too, so neither can drift away from the other.

usage: exercises.py TCPSIM
"""
import json
import re
import subprocess
import sys
import tempfile

TCPSIM = sys.argv[1] if len(sys.argv) > 1 else "build/tcpsim"


def trace(scenario, *opts):
    run = subprocess.run([TCPSIM, "run", scenario, "--quiet", "--sim", "1", "--trace", "json", *opts],
                         capture_output=True, timeout=120)
    if run.returncode > 1:
        raise SystemExit(f"FAILED: {scenario} did not run: {run.stderr.decode()}")
    return [json.loads(line) for line in run.stdout.decode().splitlines()]


def sends(t, who=None, flag=None):
    return [e for e in t if e["kind"] == "send" and (who is None or e["src"] == who)
            and (flag is None or flag in e["seg"]["flags"].split(","))]


def handshake_segments():
    t = trace("scenarios/handshake/normal_open.lua")
    est = [i for i, e in enumerate(t) if e["kind"] == "state" and e["to"] == "ESTABLISHED"]
    return str(len([e for e in t[:max(est)] if e["kind"] == "send"]))


def synacks():
    t = trace("scenarios/handshake/lost_synack.lua")
    return str(len([e for e in sends(t, "B", "SYN") if "ACK" in e["seg"]["flags"]]))


def fins_of_a():
    return str(len(sends(trace("scenarios/teardown/lost_final_ack.lua"), "A", "FIN")))


def closed_at(*opts):
    t = trace("scenarios/teardown/lost_final_ack.lua", *opts)
    last = [e for e in t if e["kind"] == "state" and e["host"] == "B" and e["from"] == "TIME_WAIT"]
    return "%.3f" % (last[-1]["t_ns"] / 1e9)


def capture_difference():
    counts = {}
    with tempfile.TemporaryDirectory() as d:
        for h in "AB":
            f = f"{d}/{h}.pcap"
            subprocess.run([TCPSIM, "run", "scenarios/teardown/lost_final_ack.lua", "--quiet", "--sim", "1",
                            "--pcap", f, "--pcap-at", h], capture_output=True, timeout=120)
            data = open(f, "rb").read()
            n, at = 0, 24
            while at + 16 <= len(data):
                at += 16 + int.from_bytes(data[at + 8:at + 12], "little")
                n += 1
            counts[h] = n
    return str(counts["B"] - counts["A"])


def closing_endpoints():
    t = trace("scenarios/teardown/simultaneous_close.lua")
    return str(len({(e["host"], e["sock"]) for e in t if e["kind"] == "state" and e["to"] == "CLOSING"}))


def answer_to_old_synack():
    t = trace("scenarios/handshake/old_duplicate_syn.lua")
    i = next(i for i, e in enumerate(t) if e["kind"] == "deliver" and e["dst"] == "A"
             and e["seg"]["flags"] == "SYN,ACK")
    return next(e for e in t[i:] if e["kind"] == "send" and e["src"] == "A")["seg"]["flags"]


CHECKS = {1: handshake_segments, 2: synacks, 3: fins_of_a, 4: closed_at,
          5: lambda: closed_at("--profile", "linux"), 6: capture_difference, 7: closing_endpoints,
          8: answer_to_old_synack}


def main():
    doc = open("docs/teaching/exercises.md", encoding="utf-8").read()
    answers = {int(n): v for n, v in re.findall(r"\*\*Answer (\d+):\*\* `([^`]+)`", doc)}
    fails = 0
    for n in sorted(set(answers) | set(CHECKS)):
        if n not in answers or n not in CHECKS:
            print(f"FAILED: exercise {n} has {'no answer in the document' if n not in answers else 'no check'}")
            fails += 1
            continue
        got = CHECKS[n]()
        ok = got == answers[n]
        print(f"{'ok' if ok else 'FAILED'}: exercise {n}: the document says {answers[n]}, the run gives {got}")
        fails += not ok
    return 1 if fails or len(answers) < 8 else 0


if __name__ == "__main__":
    sys.exit(main())
