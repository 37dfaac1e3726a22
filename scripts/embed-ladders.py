#!/usr/bin/env python3
"""Puts the current docs/teaching/NAME.txt into the guides that embed it.

A guide embeds a ladder as a ``` block followed (after one blank line) by a
line naming its source, "teaching/NAME.txt"; that block's body is replaced by
the file. Run by scripts/gen-teaching.sh; a guide without such a line is
left alone.

usage: embed-ladders.py DOCS_DIR GUIDE...
"""
import os
import re
import sys

SOURCE = re.compile(r"\[teaching/([a-z0-9_]+)\.txt\]")


def embed(docs, guide):
    with open(guide, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, i = [], 0
    while i < len(lines):
        out.append(lines[i])
        m = SOURCE.search(lines[i])
        # the block ends two lines above the source line: ``` then a blank line
        if m and len(out) >= 3 and out[-2] == "" and out[-3] == "```":
            start = len(out) - 4
            while start >= 0 and out[start] != "```":
                start -= 1
            path = os.path.join(docs, "teaching", m.group(1) + ".txt")
            if start >= 0 and os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    body = f.read().rstrip("\n").split("\n")
                out[start + 1:len(out) - 3] = body
        i += 1
    with open(guide, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def main():
    docs = sys.argv[1]
    for guide in sys.argv[2:]:
        if os.path.exists(guide):
            embed(docs, guide)
    return 0


if __name__ == "__main__":
    sys.exit(main())
