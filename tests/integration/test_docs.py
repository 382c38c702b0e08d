#!/usr/bin/env python3
"""The header is the manual: every public function has a doc comment and a
section of docs/api.md; every status-returning one has an @return list in
the header and the same statuses after "Returns" in its api.md section.

    /usr/bin/python3 tests/integration/test_docs.py        (from the repository root)

Last line: "docs: N passed, M failed"."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATUS = re.compile(r"\bTSRELU_(OK|STOPPED|CONVERGED|INTERRUPTED|E[A-Z]+)\b")


def header_functions(text):
    """name -> (returns a status?, doc comment) for every TSRELU_API function."""
    out = {}
    for m in re.finditer(r"TSRELU_API\s+([^;{]*?)\b(tsrelu_[a-z0-9_]+)\s*\(", text):
        name, ret = m.group(2), m.group(1)
        before = text[:m.start()]
        end = before.rfind("*/")
        start = before.rfind("/*", 0, end)
        gap = before[end + 2:] if end >= 0 else "x"
        doc = before[start:end] if end >= 0 and not gap.strip() else ""
        if name not in doc:
            doc = ""
        out[name] = ("tsrelu_status" in ret, doc)
    return out


def api_sections(text):
    """name -> text of the api.md sections whose heading names it."""
    out = {}
    parts = re.split(r"^(#{2,4} .*)$", text, flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        for name in re.findall(r"`(tsrelu_[a-z0-9_]+)`", parts[i]):
            out[name] = out.get(name, "") + parts[i + 1]
    return out


def header_statuses(funcs, name, depth=0):
    """Statuses of the @return list; "@return : as tsrelu_x()" means x's."""
    ret = funcs[name][1].split("@return", 1)[-1]
    same = re.match(r"\s*:\s*as (tsrelu_[a-z0-9_]+)\(\)", ret)
    found = set(STATUS.findall(ret))
    if same and same.group(1) in funcs and depth < 4:
        found |= header_statuses(funcs, same.group(1), depth + 1)
    return found


def api_statuses(sections, name, depth=0):
    """Statuses after a section's first "Returns"; "Returns as `tsrelu_x`"
    (or "Returns what `tsrelu_x` returns") means x's."""
    sec = sections.get(name, "")
    sig = sec.find(name + "(")  # a section may document several functions
    at = sec.find("Return", max(sig, 0))
    tail = sec[at:] if at >= 0 else sec
    same = re.match(r"Returns\s+(?:as|what)\s+`(tsrelu_[a-z0-9_]+)`", tail)
    found = set(STATUS.findall(tail))
    if same and depth < 4:
        found |= api_statuses(sections, same.group(1), depth + 1)
    return found


def main():
    hdr = open(os.path.join(ROOT, "include", "tsrelu.h")).read()
    api = open(os.path.join(ROOT, "docs", "api.md")).read()
    funcs = header_functions(hdr)
    sections = api_sections(api)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL " + what)

    for name, (is_status, doc) in sorted(funcs.items()):
        check(bool(doc), "%s: no doc comment in include/tsrelu.h" % name)
        check(name in sections, "%s: no section of docs/api.md names it" % name)
        if not is_status or not doc or name not in sections:
            continue
        check("@return" in doc, "%s: the header comment has no @return list" % name)
        if "@return" not in doc:
            continue
        in_header = header_statuses(funcs, name)
        in_api = api_statuses(sections, name)
        check(in_header == in_api,
              "%s: statuses differ: header only %s, api.md only %s"
              % (name, sorted(in_header - in_api), sorted(in_api - in_header)))
    print("docs: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
