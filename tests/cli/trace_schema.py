#!/usr/bin/env python3
"""Checks real traces against docs/trace.schema.json.

Runs every scenario with --trace json and validates each line against the
schema with a small validator written here (no third-party package). It
knows only the keywords the schema uses and refuses any other, so a schema
change it does not understand fails instead of passing unchecked. It also
feeds itself lines that must be rejected, so it cannot pass by accepting
everything.

usage: trace_schema.py TCPSIM [SCENARIO_DIR]
"""
import json
import os
import re
import subprocess
import sys

ANNOTATIONS = {"$schema", "$id", "title", "description", "x-version", "$comment", "$defs"}
TYPES = {"object": dict, "string": str, "boolean": bool, "array": list}


class SchemaError(Exception):
    pass


def is_type(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name not in TYPES:
        raise SchemaError("unknown type " + name)
    return isinstance(value, TYPES[name])


def resolve(root, ref):
    if not ref.startswith("#/"):
        raise SchemaError("only local $ref: " + ref)
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors(root, schema, value, path):
    """Yields one message per violation of `schema` by `value`."""
    for key in schema:
        if key not in ANNOTATIONS and key not in CHECKS:
            raise SchemaError("keyword not supported by this checker: " + key)
    for key, check in CHECKS.items():
        if key in schema:
            yield from check(root, schema, value, path)


def c_ref(root, s, v, p):
    yield from errors(root, resolve(root, s["$ref"]), v, p)


def c_type(root, s, v, p):
    if not is_type(v, s["type"]):
        yield f"{p}: expected {s['type']}, got {json.dumps(v)}"


def c_enum(root, s, v, p):
    if not any(v == x and type(v) is type(x) for x in s["enum"]):
        yield f"{p}: {json.dumps(v)} not one of {s['enum']}"


def c_const(root, s, v, p):
    if not (v == s["const"] and type(v) is type(s["const"])):
        yield f"{p}: must be {json.dumps(s['const'])}"


def c_pattern(root, s, v, p):
    if isinstance(v, str) and not re.search(s["pattern"], v):
        yield f"{p}: {json.dumps(v)} does not match {s['pattern']}"


def c_min_length(root, s, v, p):
    if isinstance(v, str) and len(v) < s["minLength"]:
        yield f"{p}: shorter than {s['minLength']}"


def c_minimum(root, s, v, p):
    if is_type(v, "number") and v < s["minimum"]:
        yield f"{p}: {v} < {s['minimum']}"


def c_maximum(root, s, v, p):
    if is_type(v, "number") and v > s["maximum"]:
        yield f"{p}: {v} > {s['maximum']}"


def c_required(root, s, v, p):
    if isinstance(v, dict):
        for k in s["required"]:
            if k not in v:
                yield f"{p}: missing {k}"


def c_properties(root, s, v, p):
    if isinstance(v, dict):
        for k, sub in s["properties"].items():
            if k in v:
                yield from errors(root, sub, v[k], f"{p}.{k}")


def c_additional(root, s, v, p):
    if isinstance(v, dict) and s["additionalProperties"] is False:
        for k in v:
            if k not in s.get("properties", {}):
                yield f"{p}: unexpected key {k}"
    elif s["additionalProperties"] is not False:
        raise SchemaError("additionalProperties must be false here")


def c_items(root, s, v, p):
    if isinstance(v, list):
        for i, x in enumerate(v):
            yield from errors(root, s["items"], x, f"{p}[{i}]")


def c_min_items(root, s, v, p):
    if isinstance(v, list) and len(v) < s["minItems"]:
        yield f"{p}: fewer than {s['minItems']} items"


def c_max_items(root, s, v, p):
    if isinstance(v, list) and len(v) > s["maxItems"]:
        yield f"{p}: more than {s['maxItems']} items"


def c_all_of(root, s, v, p):
    for sub in s["allOf"]:
        yield from errors(root, sub, v, p)


def c_one_of(root, s, v, p):
    n = sum(1 for sub in s["oneOf"] if not list(errors(root, sub, v, p)))
    if n != 1:
        yield f"{p}: matches {n} of the oneOf choices, not exactly one"


def c_if(root, s, v, p):
    if not list(errors(root, s["if"], v, p)):
        yield from errors(root, s.get("then", {}), v, p)


def c_then(root, s, v, p):
    return iter(())  # applied by "if"


CHECKS = {
    "$ref": c_ref, "type": c_type, "enum": c_enum, "const": c_const, "pattern": c_pattern,
    "minLength": c_min_length, "minimum": c_minimum, "maximum": c_maximum,
    "required": c_required, "properties": c_properties, "additionalProperties": c_additional,
    "allOf": c_all_of, "oneOf": c_one_of, "if": c_if, "then": c_then,
    "items": c_items, "minItems": c_min_items, "maxItems": c_max_items,
}


def validate(schema, obj):
    return list(errors(schema, schema, obj, "$"))


def must_reject(schema, good_state, good_send):
    """Lines a correct checker rejects: a state change without its rule, an
    unknown key, a bad state name, a packet with neither seg nor malformed."""
    bad = []
    no_rule = dict(good_state); no_rule.pop("rule")
    bad.append(("state without rule", no_rule))
    bad.append(("unknown key", dict(good_state, extra=1)))
    bad.append(("bad state", dict(good_state, to="ESTABLISHED_ISH")))
    bad.append(("empty because", dict(good_state, because="")))
    no_seg = dict(good_send); no_seg.pop("seg")
    bad.append(("packet without seg", no_seg))
    bad.append(("bad seq", dict(good_send, seg=dict(good_send["seg"], seq=-1))))
    bad.append(("SACK block of three edges",
                dict(good_send, seg=dict(good_send["seg"], sack=[[1, 2, 3]]))))
    bad.append(("five SACK blocks", dict(good_send, seg=dict(good_send["seg"], sack=[[1, 2]] * 5))))
    fails = 0
    for name, obj in bad:
        if not validate(schema, obj):
            print(f"FAILED: the checker accepted a bad line ({name})")
            fails += 1
    return fails


def main():
    tcpsim = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else "scenarios"
    with open("docs/trace.schema.json") as f:
        schema = json.load(f)
    files = sorted(os.path.join(d, n) for d, _, ns in os.walk(root) for n in ns
                   if n.endswith(".lua") and "/lib" not in d)
    # Each under its own profile, and one lossy transfer under linux, whose
    # receiver sends SACK blocks (the default profile agrees no SACK).
    runs = [(path, []) for path in files]
    lossy = os.path.join(root, "robustness", "lossy_transfer.lua")
    if os.path.exists(lossy):
        runs.append((lossy, ["--profile", "linux"]))
    lines = fails = 0
    kinds = set()
    state = send = None
    sacks = 0
    for path, extra in runs:
        run = subprocess.run([tcpsim, "run", path, "--quiet", "--trace", "json"] + extra,
                             capture_output=True, timeout=120)
        if run.returncode > 1:
            print(f"FAILED: {path} did not run (exit {run.returncode})")
            fails += 1
            continue
        for n, raw in enumerate(run.stdout.decode("utf-8").splitlines(), 1):
            obj = json.loads(raw)
            lines += 1
            kinds.add(obj["kind"])
            if obj["kind"] == "state" and state is None:
                state = obj
            if obj["kind"] == "send" and send is None:
                send = obj
            if "sack" in obj.get("seg", {}):
                sacks += 1
            if obj["kind"] == "state" and obj["rule"] == "none":
                print(f"FAILED: {path} line {n}: no rule for {obj['from']} -> {obj['to']} "
                      f"({obj['cause']}: {obj['note']})")
                fails += 1
            if obj["kind"] == "restart" and (obj["rule"] == "none" or "cause_pkt" not in obj):
                print(f"FAILED: {path} line {n}: restart without its rule or packet")
                fails += 1
            for msg in validate(schema, obj):
                print(f"FAILED: {path} line {n}: {msg}")
                fails += 1
    if os.path.exists(lossy) and sacks == 0:
        print("FAILED: no segment with SACK blocks (robustness/lossy_transfer.lua under linux)")
        fails += 1
    if "restart" not in kinds:
        print("FAILED: no scenario traced a TIME_WAIT restart (teardown/lost_final_ack should)")
        fails += 1
    if state is None or send is None or lines < 100:
        print(f"FAILED: too little to check ({lines} lines)")
        return 1
    fails += must_reject(schema, state, send)
    print(f"trace schema: {lines} lines of {len(files)} scenarios checked, kinds {sorted(kinds)}; "
          f"{fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
