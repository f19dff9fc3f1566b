#!/usr/bin/env python3
"""Fails when two modules of the server crate import each other, directly or around a loop.

A module is one source file (`foo.rs` or `foo/mod.rs`); an import is any `crate::a::b` path in
it (in `use` lines and in code), outside `#[cfg(test)]` modules and test files (`tests.rs`, anything under a `tests/` folder). A path names the
deepest module file it reaches, so `crate::catalog::store::Snapshot` is an import of
`catalog::store`. A child module naming its parent (`super::`) is not counted: a parent owns
its children. Prints each loop as `a -> b -> ... -> a`.

    scripts/check-module-loops.py [server/src]
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "server/src"

modules = {}  # module path (tuple) -> file
for dirpath, _, files in os.walk(root):
    for f in files:
        if not f.endswith(".rs"):
            continue
        rel = os.path.relpath(os.path.join(dirpath, f), root)
        parts = rel[:-3].split(os.sep)
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            continue
        if "tests" in parts or parts[-1].endswith("_tests"):
            continue
        modules[tuple(parts)] = os.path.join(dirpath, f)


def strip_tests(text):
    """Drops `#[cfg(test)] mod x { ... }` blocks and comments."""
    text = re.sub(r"//[^\n]*", "", text)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def expand_use_groups(text, module):
    """Absolute module paths named in `text`: `crate::a::{b, c::d}` gives a::b and a::c::d (one
    level of braces); `super::x` and `self::x` are resolved against `module`."""
    paths = []
    prefix = r"((?:crate|super|self)::(?:super::)*)"
    def absolute(head, rest):
        if head.startswith("crate::"):
            return rest
        base = list(module)
        if head.startswith("self::"):
            head = head[len("self::"):]
        while head.startswith("super::"):
            base = base[:-1]
            head = head[len("super::"):]
        return "::".join(base + [rest]) if rest else "::".join(base)
    for m in re.finditer(prefix + r"((?:\w+::)*)\{([^{}]*)\}", text):
        for item in m.group(3).split(","):
            item = item.strip().split(" as ")[0].strip()
            if item == "self":
                paths.append(absolute(m.group(1), m.group(2).rstrip(":")))
            elif item:
                paths.append(absolute(m.group(1), m.group(2) + item))
    for m in re.finditer(prefix + r"(\w+(?:::\w+)*)", text):
        paths.append(absolute(m.group(1), m.group(2)))
    return paths


def target(path):
    parts = tuple(p for p in path.split("::") if p)
    while parts and parts not in modules:
        parts = parts[:-1]
    return parts or None


graph = {m: set() for m in modules}
for module, file in modules.items():
    with open(file, encoding="utf-8") as fh:
        text = strip_tests(fh.read())
    for path in expand_use_groups(text, module):
        t = target(path)
        if t and t != module and module[: len(t)] != t:
            graph[module].add(t)

# Tarjan's strongly connected components.
index, low, on, stack, sccs, counter = {}, {}, set(), [], [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(comp)


for v in sorted(graph):
    if v not in index:
        visit(v)

name = lambda m: "::".join(m)
for comp in sccs:
    members = set(comp)
    # One loop through the component, for the message.
    start = min(comp)
    path, seen = [start], {start}
    cur = start
    while True:
        nxt = sorted(w for w in graph[cur] if w in members)
        back = [w for w in nxt if w == start]
        if back and len(path) > 1:
            break
        fresh = [w for w in nxt if w not in seen]
        if not fresh:
            break
        cur = fresh[0]
        path.append(cur)
        seen.add(cur)
    print(f"module loop ({len(comp)} modules): " + " -> ".join(map(name, path + [start])))
    print("  all: " + ", ".join(sorted(map(name, comp))))
if sccs:
    sys.exit(1)
print(f"no module loops among {len(modules)} modules of {root}")
