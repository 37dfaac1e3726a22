#!/usr/bin/env python3
"""Random scenarios from the API reference (docs/scenarios.md), valid and invalid, run under limits.

Each scenario builds a simulation with a few hosts and links, then makes a random sequence of calls:
sockets (listen, connect, send, recv, shutdown, close, abort, take_error, accept), link faults
(drop_next, hooks, inject, partition, set), callbacks (timers, on_state, when/match predicates)
that call the API again, runs (run_for, run_until, step), host crash and restart, expectations. Arguments are drawn from
valid values and from hostile ones (negative, huge, NaN, wrong types, nil, unknown option names).
Most calls are wrapped in pcall, so one refused call does not end every scenario.

A run passes when tcpsim ends with exit status 0, 1 or 2 within its limits and prints no sanitizer,
assertion or crash report. Anything else is a finding: the scenario is kept in --keep (default
build/fuzz/scenarios/) to replay with `tcpsim run FILE`.

    tests/fuzz/gen_scenarios.py TCPSIM [--count N] [--seed S] [--keep DIR] [--seconds T]

The same seed writes the same scenarios. Exit status: 0 no finding, 1 findings.
"""
import argparse
import time
import os
import random
import re
import subprocess
import sys
import tempfile

DURATIONS_OK = ['"1ms"', '"10ms"', '"250us"', '"1s"', '"2min"', "0", "tcpsim.ns(1500)"]
DURATIONS_BAD = ['"-1ms"', '"1e400s"', "10", '"soon"', "-5", "{}", "nil", '"18446744073709551616ns"',
                 '"99999999h"', "0/0", "true"]
PROBS_OK = ["0", "0.01", "0.3", "1"]
PROBS_BAD = ["-0.5", "1.5", "0/0", "1/0", '"half"']
INTS_BAD = ["-1", "0", "2^63", "-2^63", "1e308", "0/0", "1.5", '"7"', "{}", "nil", "math.maxinteger"]
FLAGS = ['"S"', '"SA"', '"A"', '"FA"', '"R"', '"RA"', '"PA"', '"X"', '""', "7"]
STATES = ['"ESTABLISHED"', '"CLOSED"', '"TIME_WAIT"', '"SYN_SENT"', '"LISTEN"', '"NOPE"']
VERDICTS = ["nil", '"pass"', '"drop"', '"duplicate"', '"hold"', '{delay = "5ms"}', '{delay = 5}',
            '"dorp"', "42", "{}"]
PROFILES = ['"rfc9293"', '"linux"', '"bsd"', '"nope"']
# Knobs of the Linux receive path (docs/stack.md), at the ends of the
# ranges a host takes (the set-up lines hold valid values only).
KNOBS = {
    "grow_window": ["true", "false"],
    "rcv_autotune": ["true", "false"],
    "scaling_ratio": ["0", "1", "160", "256", "257", "4294967295"],
    "rcv_win_ratio": ["0", "1", "128", "256", "4294967295"],
    "rcvbuf": ["1", "4096", "131072", "1073741824", "4294967295"],
    "rcvbuf_max": ["0", "1", "33554432", "4294967295"],
    "comp_sack_delay": ['"0ms"', '"1ns"', '"1ms"', '"500y"'],
    "comp_sack_slack": ['"0ms"', '"100us"', '"500y"'],
    "comp_sack_nr": ["0", "1", "44", "255"],
    "quickack": ["0", "16", "4294967295"],
    "delack_max": ['"0ms"', '"200ms"', '"500y"'],
    "sndbuf_expand": ["0", "2", "4294967295"],
    "sndbuf_max": ["1", "4194304", "4294967295"],
}


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.lines = []
        self.depth = 0
        self.valid = False  # only valid values (the set-up lines)

    def pick(self, *choices):
        return self.r.choice(choices)

    def maybe_bad(self, ok, bad, p_bad=0.15):
        if self.valid or self.r.random() >= p_bad:
            return self.r.choice(ok)
        return self.r.choice(bad)

    def dur(self):
        return self.maybe_bad(DURATIONS_OK, DURATIONS_BAD)

    def prob(self):
        return self.maybe_bad(PROBS_OK, PROBS_BAD)

    def port(self):
        return self.maybe_bad(["80", "443", "8080", "1", "65535"], ["0", "65536", "-1", '"http"', "1.5"])

    def count(self, lo=1, hi=5):
        return self.maybe_bad([str(self.r.randint(lo, hi))], INTS_BAD)

    def host(self):
        return self.pick("A", "B", "C")

    def sock(self):
        return "S[%d]" % self.r.randint(1, 6)

    def link(self):
        return self.pick("L1", "L2", "L1", "(nil)")

    def link_opts(self):
        opts = []
        for key, val in (("delay", self.dur), ("loss", self.prob), ("duplicate", self.prob),
                         ("reorder", self.prob), ("corrupt", self.prob), ("jitter", self.dur)):
            if self.r.random() < 0.3:
                opts.append("%s = %s" % (key, val()))
        if self.r.random() < 0.3:
            opts.append("bandwidth = %s" % self.maybe_bad(['"10Mbps"', '"1Gbps"', "1000000"],
                                                          ['"fast"', "-1", "0", "1e300"]))
        if self.r.random() < 0.2:
            opts.append("queue = %s" % self.maybe_bad(["0", "10", "1000"], INTS_BAD))
        if self.r.random() < 0.2:
            opts.append("mtu = %s" % self.maybe_bad(["1500", "576", "9000"], ["0", "20", "-1", "1e9"]))
        if self.r.random() < 0.1 and not self.valid:
            opts.append("%s = 1" % self.pick("dealy", "lost", "up"))
        return "{ %s }" % ", ".join(opts)

    def filt(self):
        parts = []
        if self.r.random() < 0.5:
            parts.append("from = %s" % self.pick("A", "B", "C", '"A"', "L1"))
        if self.r.random() < 0.4:
            parts.append("flags = %s" % self.r.choice(FLAGS))
        if self.r.random() < 0.3:
            parts.append("nth = %s" % self.count())
        if self.r.random() < 0.2:
            parts.append("count = %s" % self.count())
        if self.r.random() < 0.2 and self.depth < 2:
            parts.append("when = function() %s return %s end" % (self.callback_body(1), self.pick("true", "false", "nil", "1")))
        if self.r.random() < 0.2 and self.depth < 2:
            parts.append("match = function(seg) %s return seg and seg.len and seg.len > 0 end" % self.callback_body(1))
        return "{ %s }" % ", ".join(parts)

    def callback_body(self, n):
        """A few statements for a callback, one level deeper."""
        if self.depth >= 2:
            return ""
        self.depth += 1
        body = " ".join(self.stmt() for _ in range(n))
        self.depth -= 1
        return body

    def call(self):
        g = self
        options = [
            lambda: "S[#S+1] = %s:listen(%s, { autoread = %s, backlog = %s })" % (g.host(), g.port(), g.pick("true", "false"), g.count(0, 8)),
            lambda: "S[#S+1] = %s:connect(%s, %s)" % (g.host(), g.pick("A", "B", "C", '"10.0.0.2"', '"10.9.9.9"', '"x"'), g.port()),
            lambda: "%s:send(%s)" % (g.sock(), g.pick("1000", "100000", '"hello"', "0", "-1", "2^40", "nil", "string.rep('z', 3000)")),
            lambda: "%s:recv(%s)" % (g.sock(), g.pick("", "10", "-1", "0", "1e18")),
            lambda: "%s:shutdown()" % g.sock(),
            lambda: "%s:close()" % g.sock(),
            lambda: "%s:abort()" % g.sock(),
            lambda: "local _ = %s:take_error()" % g.sock(),
            lambda: "S[#S+1] = %s:accept()" % g.sock(),
            lambda: "S[#S+1] = %s:accept_wait(%s)" % (g.sock(), g.dur()),
            lambda: "%s:on_state(function(s, from, to) %s end)" % (g.sock(), g.callback_body(2)),
            lambda: "sim:after(%s, function() %s end)" % (g.dur(), g.callback_body(2)),
            lambda: "sim:at(%s, function() %s end)" % (g.dur(), g.callback_body(1)),
            lambda: "sim:run_for(%s)" % g.dur(),
            lambda: "sim:run_until(function() %s return %s end, %s, { soft = true })" % (g.callback_body(1), g.pick("true", "false", "sim.now > 1e9"), g.dur()),
            lambda: "sim:step()",
            lambda: "%s:drop_next(%s)" % (g.link(), g.filt()),
            lambda: "%s:duplicate_next(%s)" % (g.link(), g.filt()),
            lambda: "%s:delay_next{ by = %s }" % (g.link(), g.dur()),
            lambda: "R[#R+1] = %s:hold_next(%s)" % (g.link(), g.filt()),
            lambda: "R[%d]:release()" % g.r.randint(1, 3),
            lambda: "%s:release()" % g.link(),
            lambda: "%s:hook(function(seg) %s return %s end)" % (g.link(), g.callback_body(1), g.r.choice(VERDICTS)),
            lambda: "%s:inject{ from = %s, flags = %s, seq = %s, data = %s }" % (g.link(), g.pick("A", "B", "C", '"Q"'), g.r.choice(FLAGS), g.pick("1", "0", "2^32", "-1", "nil"), g.pick('"x"', "nil", "string.rep('d', 2000)")),
            lambda: "%s:partition{ at = %s, heal = %s }" % (g.link(), g.dur(), g.dur()),
            lambda: "%s:heal{}" % g.link(),
            lambda: "%s:set(%s)" % (g.link(), g.link_opts()),
            lambda: "local _ = %s:segments{} and %s.exchange and %s.stats" % (g.link(), g.link(), g.link()),
            lambda: "%s:crash()" % g.host(),
            lambda: "%s:restart()" % g.host(),
            lambda: "sim:log(%s)" % g.pick('"note"', "string.rep('n', 5000)", "tostring(sim.now)", "nil", "{}"),
            lambda: "expect(%s):%s(%s)" % (g.sock(), g.pick("state", "never", "contains", "error"), g.pick(g.r.choice(STATES), "{" + g.r.choice(STATES) + "}", "nil")),
            lambda: "local _ = %s.state, %s.trace, %s.stats, %s.received" % ((g.sock(),) * 4),
            lambda: "for k, v in pairs(%s or {}) do local _ = k end" % g.pick("S", "R", "{ x = 1, [2] = 3, y = {} }"),
            lambda: "L2 = sim:link(%s, %s, %s)" % (g.host(), g.host(), g.link_opts()),
        ]
        return self.r.choice(options)()

    def stmt(self):
        c = self.call()
        if self.r.random() < 0.85:
            return "pcall(function() %s end)" % c
        return c

    def host_decl(self, name):
        """A host's name, or half the time a table with some receive-path knobs."""
        if self.r.random() < 0.5:
            return '"%s"' % name
        keys = self.r.sample(sorted(KNOBS), self.r.randint(1, 5))
        knobs = "".join(", %s = %s" % (k, self.r.choice(KNOBS[k])) for k in keys)
        return '{ name = "%s", profile = %s%s }' % (name, self.pick(*PROFILES[:3]), knobs)

    def scenario(self):
        self.valid = True
        out = ["-- generated by tests/fuzz/gen_scenarios.py",
               "local sim = tcpsim.new { seed = %d, profile = %s }" % (self.r.randint(0, 1000), self.pick(*PROFILES[:3])),
               "local A, B, C = sim:host %s, sim:host %s, sim:host \"C\"" % (self.host_decl("A"), self.host_decl("B")),
               "local L1 = sim:link(A, B, %s)" % self.link_opts(),
               "local L2 = sim:link(B, C, { delay = \"5ms\" })",
               "local S, R = {}, {}"]
        self.valid = False
        for _ in range(self.r.randint(5, 30)):
            out.append(self.stmt())
        out.append("pcall(function() sim:run_for(\"30s\") end)")
        out.append("expect(1):equals(1)")
        return "\n".join(out) + "\n"


BAD = re.compile(r"Sanitizer|runtime error:|Assertion .* failed|Segmentation|core dumped|"
                 r"stack smashing|double free|free\(\): ")


def run_one(tcpsim, path, timeout):
    cmd = [tcpsim, "run", path, "--quiet", "--max-wall", "10s", "--max-memory", "256MiB",
           "--max-instructions", "20000000"]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hung: still running after %d s" % timeout, "", None
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    rc = p.returncode
    if rc < 0:
        return "killed by signal %d" % -rc, out, rc
    if rc not in (0, 1, 2):
        return "exit status %d" % rc, out, rc
    if BAD.search(out):
        return "a sanitizer, assertion or crash report", out, rc
    if rc == 2 and "tcpsim: error:" not in out:
        return "exit 2 without an error message", out, rc
    return None, out, rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tcpsim")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", default="build/fuzz/scenarios")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--seconds", type=float, default=0,
                    help="stop starting new scenarios after this much wall time (0: none)")
    a = ap.parse_args()
    tcpsim = os.path.abspath(a.tcpsim)
    findings, exits, ran = 0, {0: 0, 1: 0, 2: 0}, 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.count):
            if a.seconds and time.monotonic() - start >= a.seconds:
                break
            ran += 1
            src = Gen(random.Random("%d:%d" % (a.seed, i))).scenario()
            path = os.path.join(tmp, "gen_%d_%d.lua" % (a.seed, i))
            with open(path, "w") as f:
                f.write(src)
            why, out, rc = run_one(tcpsim, path, a.timeout)
            if why is None:
                exits[rc] += 1
                continue
            findings += 1
            os.makedirs(a.keep, exist_ok=True)
            kept = os.path.join(a.keep, os.path.basename(path))
            with open(kept, "w") as f:
                f.write(src)
            print("FINDING %s: %s" % (kept, why))
            print(out[-2000:])
    print("gen_scenarios: seed %d, %d scenarios, %d findings (ended with exit 0: %d, 1: %d, 2: %d)"
          % (a.seed, ran, findings, exits[0], exits[1], exits[2]))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
