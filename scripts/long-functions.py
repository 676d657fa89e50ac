#!/usr/bin/env python3
"""Lists the functions in src/ longer than a limit (default 60 lines), longest first.

A brace-matching heuristic, not a parser: a function is a block whose opening brace follows
a parameter list at namespace or class level (lambdas and blocks inside a function count
towards it). Usage: scripts/long-functions.py [--limit N] [DIR]"""
import re
import sys
from pathlib import Path

limit = 60
args = sys.argv[1:]
if args[:1] == ["--limit"]:
    limit = int(args[1])
    args = args[2:]
root = Path(args[0] if args else Path(__file__).resolve().parent.parent / "src")

SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b[^;()]*$|^\s*extern \"C\"")


def strip(line, in_comment):
    out, i = "", 0
    while i < len(line):
        if in_comment:
            end = line.find("*/", i)
            if end < 0:
                return out, True
            i, in_comment = end + 2, False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_comment = True
            i += 2
        elif line[i] in "\"'":
            quote, j = line[i], i + 1
            while j < len(line) and line[j] != quote:
                j += 2 if line[j] == "\\" else 1
            out += quote + quote
            i = j + 1
        else:
            out += line[i]
            i += 1
    return out, in_comment


def functions(path):
    text = path.read_text(errors="replace")
    text = re.sub(r'R"(\w*)\((.*?)\)\1"', '""', text, flags=re.S)  # raw strings
    stack, head, found, in_comment = [], "", [], False
    for number, raw in enumerate(text.splitlines(), 1):
        line, in_comment = strip(raw, in_comment)
        for ch in line:
            if ch == "{":
                inside_function = any(kind == "function" for kind, *_ in stack)
                if inside_function:
                    stack.append(("block", number, ""))
                elif SCOPE.search(head.strip()) or ")" not in head or re.search(r"=\s*$", head):
                    stack.append(("scope", number, ""))
                else:
                    name = re.findall(r"([~\w:<>]+)\s*\(", head)
                    stack.append(("function", number, name[0] if name else "?"))
                head = ""
            elif ch == "}":
                if stack:
                    kind, start, name = stack.pop()
                    if kind == "function":
                        found.append((number - start + 1, name, start))
                head = ""
            elif ch == ";":
                head = ""
            else:
                head += ch
        head += " "
    return found


rows = []
for path in sorted(root.rglob("*.[ch]pp")):
    for length, name, line in functions(path):
        rows.append((length, f"{path.relative_to(root.parent)}:{line}", name))
rows.sort(reverse=True)
over = [r for r in rows if r[0] > limit]
for length, where, name in over:
    print(f"{length:5d}  {name}  {where}")
print(f"{len(over)} function(s) over {limit} lines; longest {rows[0][0] if rows else 0}")
