#!/usr/bin/python3
"""Static check of the Julia wrapper (Julia itself is not installed here).

Parses bindings/julia/src/TsRelu.jl and include/tsrelu.h and fails if a
ccall names a symbol that lib/libtsrelu.so does not export
(nm -D --defined-only), a function the header does not declare, passes a
number of argument types or arguments different from the header's
parameters, or maps a C type to an unexpected Julia type (Csize_t for
size_t, Cdouble, Ptr{Cdouble}, UInt64, Int64, Cint, Ptr{Cvoid}, ...). It
also checks that every public function is wrapped and that the @cfunction
trampolines match the callback typedefs.

usage: /usr/bin/python3 tests/test_julia_ccall.py [LIBRARY]
Last line: "test_julia_ccall: N passed, M failed"; exit status 0 iff M = 0.
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JULIA = ROOT / "bindings" / "julia" / "src" / "TsRelu.jl"
HEADER = ROOT / "include" / "tsrelu.h"

# Opaque handle types: filled from the header's "typedef struct X X;" lines.
HANDLE_TYPES = set()
CALLBACK_TYPES = {"tsrelu_observer_fn", "tsrelu_step_fn"}


# ------------------------------------------------------------------ C side

def norm_ctype(t):
    """'const double *' -> 'double*'; 'tsrelu_teacher **' -> 'tsrelu_teacher**'."""
    t = re.sub(r"\bconst\b", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return re.sub(r"\s*\*", "*", t)


def split_param(p):
    """C parameter declaration -> its type (without the parameter name)."""
    p = p.strip()
    m = re.match(r"^(.*?[\s*])([A-Za-z_]\w*)$", p)
    if m and m.group(2) not in ("void",) and m.group(1).strip():
        return norm_ctype(m.group(1))
    return norm_ctype(p)


def parse_params(params):
    params = params.strip()
    if params in ("", "void"):
        return []
    return [split_param(p) for p in params.split(",")]


def parse_header(text):
    """{name: (return type, [param types])} and {typedef: (ret, [params])}."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
    HANDLE_TYPES.update(re.findall(r"typedef\s+struct\s+(\w+)\s+\1\s*;", text))
    funcs = {}
    for m in re.finditer(r"TSRELU_API\s+(?:TSRELU_NODISCARD\s+)?([^;(]*?)\b(tsrelu_\w+)\s*\(([^)]*)\)\s*;",
                         text, flags=re.S):
        funcs[m.group(2)] = (norm_ctype(m.group(1)), parse_params(m.group(3)))
    typedefs = {}
    for m in re.finditer(r"typedef\s+([^;(]*?)\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;", text, flags=re.S):
        typedefs[m.group(2)] = (norm_ctype(m.group(1)), parse_params(m.group(3)))
    return funcs, typedefs


def allowed_julia(ctype, is_return=False):
    """Julia types acceptable for a C type in a ccall signature."""
    base = ctype.rstrip("*")
    stars = len(ctype) - len(base)
    ptr_of = lambda inner: {"Ptr{%s}" % x for x in inner} | ({"Ref{%s}" % x for x in inner}
                                                              if not is_return else set())
    scalars = {
        "size_t": {"Csize_t", "UInt"},
        "double": {"Cdouble", "Float64"},
        "int": {"Cint", "Int32"},
        "unsigned": {"Cuint", "UInt32"},
        "uint64_t": {"UInt64"},
        "int64_t": {"Int64"},
        "tsrelu_status": {"Cint", "Int32"},
    }
    if stars == 0:
        if base in scalars:
            return scalars[base]
        if base == "void" and is_return:
            return {"Cvoid", "Nothing"}
        if base in CALLBACK_TYPES:
            return {"Ptr{Cvoid}"}
        return set()
    if stars == 1:
        if base == "char":
            return {"Cstring", "Ptr{UInt8}", "Ptr{Cchar}"}
        if base == "void" or base in HANDLE_TYPES:
            return {"Ptr{Cvoid}"}
        if base in scalars:
            return ptr_of(scalars[base])
        return set()
    if stars == 2 and base in HANDLE_TYPES:
        return ptr_of({"Ptr{Cvoid}"})
    return set()


# ------------------------------------------------------------------ Julia side

def strip_julia(text):
    """Remove docstrings, string literals' contents, and comments."""
    text = re.sub(r'"""(?:.|\n)*?"""', '""', text)
    text = re.sub(r"#=(?:.|\n)*?=#", " ", text)
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^'\\])'", text[i:i + 4]):
            m = re.match(r"'(\\.|[^'\\])'", text[i:])
            out.append("'c'")
            i += len(m.group(0))
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def balanced(text, start):
    """Content of the bracket opened at text[start] and the index after it."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[text[start]]]
    i = start + 1
    while stack:
        if i >= len(text):
            raise ValueError("unbalanced brackets from offset %d" % start)
        c = text[i]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if c != stack.pop():
                raise ValueError("mismatched bracket at offset %d" % i)
        i += 1
    return text[start + 1:i - 1], i


def split_top(s):
    """Split on commas that are not nested in brackets."""
    parts, depth, cur = [], 0, []
    for c in s:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    last = "".join(cur).strip()
    if last:
        parts.append(last)
    return parts


def tuple_items(s):
    s = s.strip()
    if not (s.startswith("(") and s.endswith(")")):
        raise ValueError("expected a tuple of types, got %r" % s)
    inner, end = balanced(s, 0)
    if end != len(s):
        raise ValueError("expected one tuple of types, got %r" % s)
    return [re.sub(r"\s+", "", x) for x in split_top(inner)]


def parse_ccalls(text):
    """[(line, symbol, library expr, return type, [arg types], n args)]."""
    code = strip_julia(text)
    calls = []
    for m in re.finditer(r"\bccall\s*\(", code):
        line = code.count("\n", 0, m.start()) + 1
        inner, _ = balanced(code, m.end() - 1)
        parts = split_top(inner)
        if len(parts) < 3:
            raise ValueError("line %d: ccall with fewer than 3 parts" % line)
        target = re.match(r"^\(\s*:(\w+)\s*,\s*(\w+)\s*\)$", parts[0])
        if not target:
            raise ValueError("line %d: ccall target %r is not (:symbol, libtsrelu)" % (line, parts[0]))
        calls.append((line, target.group(1), target.group(2), re.sub(r"\s+", "", parts[1]),
                      tuple_items(parts[2]), len(parts) - 3))
    return calls


def parse_cfunctions(text):
    """[(line, function, return type, [arg types])] of @cfunction(...)."""
    code = strip_julia(text)
    out = []
    for m in re.finditer(r"@cfunction\s*\(", code):
        line = code.count("\n", 0, m.start()) + 1
        inner, _ = balanced(code, m.end() - 1)
        parts = split_top(inner)
        out.append((line, parts[0].strip(), re.sub(r"\s+", "", parts[1]), tuple_items(parts[2])))
    return out


# ------------------------------------------------------------------ checking

def exported_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", str(lib)], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3 and f[1] != "A":
            names.add(f[2].split("@")[0])
    return names


def check_call(call, funcs, exported):
    """List of problems of one ccall (empty if fine)."""
    line, sym, libexpr, ret, types, nargs = call
    where = "TsRelu.jl:%d %s" % (line, sym)
    probs = []
    if libexpr != "libtsrelu":
        probs.append("%s: library %r, expected libtsrelu" % (where, libexpr))
    if sym not in exported:
        probs.append("%s: not exported by the library (nm -D --defined-only)" % where)
    if sym not in funcs:
        probs.append("%s: not declared in include/tsrelu.h" % where)
        return probs
    cret, cparams = funcs[sym]
    if len(types) != len(cparams):
        probs.append("%s: %d argument types, the header declares %d parameters"
                     % (where, len(types), len(cparams)))
    if nargs != len(types):
        probs.append("%s: %d arguments passed for %d argument types" % (where, nargs, len(types)))
    if ret not in allowed_julia(cret, is_return=True):
        probs.append("%s: return type %s for C %s (expected one of %s)"
                     % (where, ret, cret, sorted(allowed_julia(cret, True))))
    for i, (jt, ct) in enumerate(zip(types, cparams)):
        ok = allowed_julia(ct)
        if jt not in ok:
            probs.append("%s: argument %d is %s for C %s (expected one of %s)"
                         % (where, i + 1, jt, ct, sorted(ok)))
    return probs


def check_cfunction(cf, typedefs):
    line, fn, ret, types = cf
    matches = [name for name, (cret, cparams) in typedefs.items()
               if len(cparams) == len(types) and ret in allowed_julia(cret, True)
               and all(j in allowed_julia(c) for j, c in zip(types, cparams))]
    if not matches:
        return ["TsRelu.jl:%d @cfunction(%s, %s, %s) matches no callback typedef of the header"
                % (line, fn, ret, types)]
    return []


def self_test(funcs, exported):
    """The checker itself must catch each kind of mistake."""
    bad = {
        "unknown symbol": "ccall((:tsrelu_nope, libtsrelu), Cint, (Ptr{Cvoid},), p)",
        "argument count": "ccall((:tsrelu_gd_run, libtsrelu), Cint, (Ptr{Cvoid},), p)",
        "arguments passed": "ccall((:tsrelu_gd_run, libtsrelu), Cint, (Ptr{Cvoid}, UInt64), p)",
        "size_t type": "ccall((:tsrelu_teacher_weights, libtsrelu), Cint, (Ptr{Cvoid}, Ptr{Cdouble}, Int64), p, V, n)",
        "pointer type": "ccall((:tsrelu_loss, libtsrelu), Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cint}), s, t, L)",
        "return type": "ccall((:tsrelu_gd_iteration, libtsrelu), Cint, (Ptr{Cvoid},), p)",
        "uint64 type": "ccall((:tsrelu_gd_run, libtsrelu), Cint, (Ptr{Cvoid}, Int64), p, n)",
    }
    good = "ccall((:tsrelu_gd_run, libtsrelu), Cint, (Ptr{Cvoid}, UInt64), p, n)"
    failures = []
    for what, src in bad.items():
        if not check_call(parse_ccalls(src)[0], funcs, exported):
            failures.append("self-test: a wrong %s was not detected" % what)
    if check_call(parse_ccalls(good)[0], funcs, exported):
        failures.append("self-test: a correct ccall was rejected")
    return failures


def main(argv):
    lib = Path(argv[1]) if len(argv) > 1 else ROOT / "lib" / "libtsrelu.so"
    passed, failed = 0, 0

    def report(ok, msg, problems=()):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok   " + msg)
        else:
            failed += 1
            print("FAIL " + msg)
            for p in problems:
                print("     " + p)

    if not lib.exists():
        report(False, "library %s not found (run make all)" % lib)
        print("test_julia_ccall: %d passed, %d failed" % (passed, failed))
        return 1
    funcs, typedefs = parse_header(HEADER.read_text())
    exported = exported_symbols(lib)
    report(len(funcs) > 40 and set(funcs) == exported,
           "header declares %d functions, the library exports %d; the same set" % (len(funcs), len(exported)),
           ["only in header: %s" % sorted(set(funcs) - exported),
            "only in library: %s" % sorted(exported - set(funcs))])
    st = self_test(funcs, exported)
    report(not st, "self-test: the checker detects wrong symbols, counts and types", st)

    text = JULIA.read_text()
    try:
        calls = parse_ccalls(text)
        cfuncs = parse_cfunctions(text)
    except ValueError as e:
        report(False, "parsing %s: %s" % (JULIA.name, e))
        calls, cfuncs = [], []
    for call in calls:
        probs = check_call(call, funcs, exported)
        report(not probs, "TsRelu.jl:%d ccall %s (%d args)" % (call[0], call[1], call[5]), probs)
    wrapped = {c[1] for c in calls}
    missing = sorted(set(funcs) - wrapped)
    report(not missing, "every public function is wrapped (%d of %d)" % (len(wrapped & set(funcs)), len(funcs)),
           ["not wrapped: %s" % ", ".join(missing)] if missing else [])
    report(len(cfuncs) == len(typedefs) and len(cfuncs) > 0,
           "%d @cfunction trampolines for %d callback typedefs" % (len(cfuncs), len(typedefs)))
    for cf in cfuncs:
        probs = check_cfunction(cf, typedefs)
        report(not probs, "TsRelu.jl:%d @cfunction(%s) matches a callback typedef" % (cf[0], cf[1]), probs)
    nonclosure = all(re.match(r"^[A-Za-z_]\w*$", cf[1]) for cf in cfuncs)
    report(nonclosure, "the @cfunctions are non-closures (a plain function name, no $)")

    print("test_julia_ccall: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
