#!/usr/bin/python3
"""Static check of the Julia wrapper (Julia itself is not installed here).

Parses bindings/julia/src/TsRelu.jl and include/tsrelu.h and fails if a
ccall names a symbol that lib/libtsrelu.so does not export
(nm -D --defined-only), a function the header does not declare, passes a
number of argument types or arguments different from the header's
parameters, or maps a C type to an unexpected Julia type (Csize_t for
size_t, Cdouble, Ptr{Cdouble}, UInt64, Int64, Cint, Ptr{Cvoid}, ...). It
also checks that every public function is wrapped and that the @cfunction
trampolines match the callback typedefs; that the TSRELU_* constants, the
API version and Project.toml agree with the header; and that every run
(tsrelu_gd_run, tsrelu_batch_run, tsrelu_flow_run) is made through _interruptible together
with its interrupt function, so that Ctrl-C can stop it. For the package:
Project.toml's [compat] julia is at least 1.9 (callbacks on Batch runs come
from foreign threads), the module finds the library in __init__ (never at
precompile time), the loader resolves the soname the ccalls use to a file
loaded by path first (what __init__ relies on), and every TsRelu name that
test/runtests.jl uses (calls, `using TsRelu: ...`, keyword arguments) is
defined by the module, so runtests.jl's calls reach ccalls checked above.

usage: /usr/bin/python3 tests/integration/test_julia_ccall.py [LIBRARY]
Last line: "test_julia_ccall: N passed, M failed"; exit status 0 iff M = 0.
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JULIA = ROOT / "bindings" / "julia" / "src" / "TsRelu.jl"
PROJECT = ROOT / "bindings" / "julia" / "Project.toml"
RUNTESTS = ROOT / "bindings" / "julia" / "test" / "runtests.jl"
EXAMPLES = ROOT / "bindings" / "julia" / "examples"
HEADER = ROOT / "include" / "tsrelu.h"

# Each C function that runs GD steps, and the function that interrupts it.
RUNS = {"tsrelu_gd_run": "tsrelu_gd_interrupt", "tsrelu_batch_run": "tsrelu_batch_interrupt",
        "tsrelu_flow_run": "tsrelu_flow_interrupt"}

# Opaque handle types: filled from the header's "typedef struct X X;" lines.
HANDLE_TYPES = set()
CALLBACK_TYPES = {"tsrelu_observer_fn", "tsrelu_step_fn", "tsrelu_event_fn", "tsrelu_flow_observer_fn"}


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


def header_constants(text):
    """({name: int} of the integer TSRELU_* macros, [status code names],
    version string)."""
    consts = {m.group(1): int(m.group(2)) for m in
              re.finditer(r"^#define\s+(TSRELU_\w+)\s+\(?(-?\d+)\)?", text, flags=re.M)}
    block = text[text.index("typedef int tsrelu_status;"):text.index("tsrelu_status_string")]
    statuses = re.findall(r"^#define\s+(TSRELU_\w+)\s", block, flags=re.M)
    version = re.search(r'^#define\s+TSRELU_VERSION_STRING\s+"([^"]+)"', text, flags=re.M).group(1)
    return consts, statuses, version


def julia_constants(code):
    """{name: int} of `const NAME = Cint(v)` / `const NAME = v` lines."""
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^const\s+((?:TSRELU|API)_\w+)\s*=\s*(?:Cint\()?\s*(-?\d+)\s*\)?\s*$",
                        code, flags=re.M)}


def check_constants(code, project, hconsts, statuses, version):
    """Problems: Julia constants that differ from (or are missing in) the
    header, positive statuses without a symbol, version mismatches."""
    probs = []
    jc = julia_constants(code)
    for name in statuses:
        if name not in jc:
            probs.append("status %s (= %d) has no Julia constant" % (name, hconsts[name]))
    for name, v in jc.items():
        if name.startswith("TSRELU_") and hconsts.get(name) != v:
            probs.append("%s = %d in TsRelu.jl, %s in the header" % (name, v, hconsts.get(name)))
    table = re.search(r"_STATUS_SYMBOL\s*=\s*Dict\(([^)]*(?:\([^)]*\)[^)]*)*)\)", code)
    mapped = set(re.findall(r"(TSRELU_\w+)\s*=>", table.group(1))) if table else set()
    for name in statuses:
        if hconsts[name] >= 0 and name not in mapped:
            probs.append("_STATUS_SYMBOL has no symbol for %s" % name)
    if (jc.get("API_MAJOR"), jc.get("API_MINOR")) != (hconsts["TSRELU_VERSION_MAJOR"],
                                                      hconsts["TSRELU_VERSION_MINOR"]):
        probs.append("API_MAJOR.API_MINOR = %s.%s, the header is %d.%d"
                     % (jc.get("API_MAJOR"), jc.get("API_MINOR"),
                        hconsts["TSRELU_VERSION_MAJOR"], hconsts["TSRELU_VERSION_MINOR"]))
    m = re.search(r'^version\s*=\s*"([^"]+)"', project, flags=re.M)
    if not m or m.group(1) != version:
        probs.append("Project.toml version %s, the header is %s" % (m and m.group(1), version))
    return probs


def check_interruptible(code):
    """Problems: a run ccall made outside _interruptible(...), or without its
    interrupt function in the same _interruptible call."""
    probs, spans = [], []
    for m in re.finditer(r"\b_interruptible\s*\(", code):
        if code[:m.start()].rstrip().endswith("function"):
            continue  # its definition
        inner, end = balanced(code, m.end() - 1)
        spans.append((m.start(), end, {c[1] for c in parse_ccalls(inner)}))
    for m in re.finditer(r"\bccall\s*\(\s*\(\s*:(\w+)", code):
        sym = m.group(1)
        if sym not in RUNS:
            continue
        line = code.count("\n", 0, m.start()) + 1
        inside = [names for a, b, names in spans if a <= m.start() < b]
        if not inside:
            probs.append("line %d: %s is called outside _interruptible: Ctrl-C cannot stop it"
                         % (line, sym))
        elif RUNS[sym] not in inside[0]:
            probs.append("line %d: _interruptible around %s does not call %s"
                         % (line, sym, RUNS[sym]))
    for sym in RUNS:
        if not any(sym in names for _, _, names in spans):
            probs.append("%s is never run through _interruptible" % sym)
    return probs


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


# ------------------------------------------------------------------ package

# Julia Base/Test/Core names runtests.jl may call besides TsRelu's own.
JULIA_BUILTINS = set("""
    abs all any collect copy diff eachindex error first isa isfile issorted last
    length maximum minimum occursin push! reshape rethrow rm similar size sort
    tempname write zeros ones fill string println print throw sum iszero
    isempty keys values haskey get Int Float64 Tuple Vector Matrix Symbol
    String UInt64 Cint ErrorException ArgumentError InexactError
    isapprox readchomp joinpath mkpath dirname basename
""".split())


def module_definitions(code):
    """Names the module defines: functions (long and short form), methods
    added to Base (with their keyword names), structs and constants, as
    {name: set of keyword names}."""
    defs = {}
    for m in re.finditer(r"^\s*(?:function\s+)?(?:Base\.)?([A-Za-z_]\w*!?)\s*(\((?:[^()]|\([^()]*\))*\))"
                         r"(?:\s*::\s*\w+)?\s*(?:=|$|where)", code, re.M):
        args = m.group(2)
        kw = set()
        if ";" in args:
            kw = {re.match(r"\s*(\w+)", k).group(1) for k in args.split(";", 1)[1].split(",")
                  if re.match(r"\s*\w+", k)}
        defs.setdefault(m.group(1), set()).update(kw)
    for m in re.finditer(r"^\s*(?:mutable\s+)?struct\s+(\w+)|^\s*const\s+(\w+)", code, re.M):
        defs.setdefault(m.group(1) or m.group(2), set())
    return defs


def exported_names(code):
    m = re.search(r"^export\s+((?:[^\n]*,\s*\n)*[^\n]*)", code, re.M)
    return set(re.findall(r"[A-Za-z_]\w*!?", m.group(1))) if m else set()


def top_level(args):
    """args with the contents of nested brackets removed."""
    out, depth = [], 0
    for c in args:
        if c in ")]}":
            depth -= 1
        if depth == 0:
            out.append(c)
        if c in "([{":
            depth += 1
    return "".join(out)


# Further Base/stdlib names the examples (bindings/julia/examples/*.jl) call.
EXAMPLE_BUILTINS = JULIA_BUILTINS | set("""
    abs2 ceil exit include join log10 map max min round sin sqrt time time_ns transpose Dict
""".split())


def check_runtests(code, tests, label="runtests.jl", builtins=JULIA_BUILTINS):
    """Problems: names runtests.jl (or an example, `label`) uses that the
    module does not define or export, keyword arguments that no method of
    the callee declares."""
    probs = []
    defs, exports = module_definitions(code), exported_names(code)
    for name in sorted(exports - set(defs)):
        probs.append("exported %s is not defined in TsRelu.jl" % name)
    local = set(re.findall(r"^\s*function\s+(\w+!?)", tests, re.M))
    for params in re.findall(r"^\s*function\s+\w+!?\(([^)]*)\)", tests, re.M):
        local |= set(re.findall(r"(?:^|[,;])\s*(\w+)", params))
    local |= set(re.findall(r"^\s*(\w+)\s*=", tests, re.M))
    imported = set()
    for m in re.finditer(r"using\s+TsRelu\s*:\s*((?:[^\n]*,\s*\n)*[^\n]*)", tests):
        imported |= set(re.findall(r"\w+!?", m.group(1)))
    for name in sorted(imported - set(defs)):
        probs.append("%s imports TsRelu.%s, which the module does not define" % (label, name))
    for name in sorted(set(re.findall(r"\bTsRelu\.(\w+!?)", tests)) - set(defs)):
        probs.append("%s uses TsRelu.%s, which the module does not define" % (label, name))
    visible = exports | imported
    for m in re.finditer(r"(?<![\w.:@])([A-Za-z_]\w*!?)\(", tests):
        name = m.group(1)
        if name in local or name in builtins or name in ("function", "if", "for", "while"):
            continue
        line = tests.count("\n", 0, m.start()) + 1
        if name not in visible:
            probs.append("%s:%d calls %s, neither exported by TsRelu nor imported" % (label, line, name))
            continue
        args, _ = balanced(tests, m.end() - 1)
        args = top_level(args)
        if ";" in args:
            kws = set(re.findall(r"(\w+)\s*=(?!=)", args.split(";", 1)[1]))
            unknown = kws - defs.get(name, set())
            if unknown:
                probs.append("%s:%d %s(...; %s): no method of %s takes %s"
                             % (label, line, name, ", ".join(sorted(kws)), name, ", ".join(sorted(unknown))))
    return probs


def check_package(code, project):
    """Problems: compat bound below 1.9, library resolved at precompile time."""
    probs = []
    m = re.search(r'^\[compat\][^\[]*?^julia\s*=\s*"(\d+)\.(\d+)', project, re.M | re.S)
    if not m or (int(m.group(1)), int(m.group(2))) < (1, 9):
        probs.append("Project.toml: [compat] julia must be >= 1.9 (Batch callbacks run on "
                     "foreign threads), found %s" % (m and m.group(0)))
    if re.search(r"^const\s+libtsrelu\s*=.*\bENV\b", code, re.M):
        probs.append("const libtsrelu reads ENV at top level: fixed at precompile time")
    body = code[code.index("function __init__"):]
    body = body[:body.index("\nend")]
    if "_load_library()" not in body.split("version_number()")[0]:
        probs.append("__init__ must call _load_library() before any ccall")
    return probs


def soname_resolves_to_loaded(lib):
    """What __init__ relies on: after dlopen of a copy of the library under
    another file name (as TSRELU_LIBRARY may name it), dlopen of the soname
    returns that object, without any search path."""
    import ctypes
    import os
    import shutil
    import tempfile
    code = ("import ctypes, sys\n"
            "a = ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)\n"
            "b = ctypes.CDLL('libtsrelu.so.1')\n"
            "print(a._handle == b._handle)\n")
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "renamed-libtsrelu.so")
        shutil.copy(os.path.realpath(str(lib)), copy)
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        out = subprocess.run([sys.executable, "-c", code, copy], capture_output=True, text=True,
                             env=env, cwd=tmp)
    return out.returncode == 0 and out.stdout.strip() == "True", out.stderr.strip()[-300:]


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
    hconsts, statuses, version = header_constants(HEADER.read_text())
    consts = "\n".join("const %s = Cint(%d)" % (n, hconsts[n]) for n in statuses)
    consts += "\nconst API_MAJOR = %d\nconst API_MINOR = %d\n" % (
        hconsts["TSRELU_VERSION_MAJOR"], hconsts["TSRELU_VERSION_MINOR"])
    consts += "const _STATUS_SYMBOL = Dict(%s)\n" % ", ".join(
        "%s => :x" % n for n in statuses if hconsts[n] >= 0)
    project = 'version = "%s"\n' % version
    if check_constants(consts, project, hconsts, statuses, version):
        failures.append("self-test: correct constants were rejected")
    for what, bad, proj in (
            ("missing status", consts.replace("const TSRELU_OK", "const X"), project),
            ("wrong value", consts.replace("Cint(-1)", "Cint(-11)"), project),
            ("old API_MINOR", consts.replace("API_MINOR =", "API_MINOR = 0 #"), project),
            ("old Project.toml", consts, 'version = "0.0.1"\n')):
        if not check_constants(bad, proj, hconsts, statuses, version):
            failures.append("self-test: a %s was not detected" % what)
    run = "ccall((:tsrelu_gd_run, libtsrelu), Cint, (Ptr{Cvoid}, UInt64), h, n)"
    stop = "ccall((:tsrelu_gd_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), h)"
    brun = "ccall((:tsrelu_batch_run, libtsrelu), Cint, (Ptr{Cvoid},), h)"
    bstop = "ccall((:tsrelu_batch_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), h)"
    frun = "ccall((:tsrelu_flow_run, libtsrelu), Cint, (Ptr{Cvoid}, Cdouble), h, 1.0)"
    fstop = "ccall((:tsrelu_flow_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), h)"
    wrap = "_interruptible(() -> %s, () -> %s)\n"
    ok = wrap % (run, stop) + wrap % (brun, bstop) + wrap % (frun, fstop)
    if check_interruptible(ok):
        failures.append("self-test: runs made through _interruptible were rejected")
    for what, bad in (("bare run", "st = %s\n" % run + ok),
                      ("run without its interrupt", ok.replace(stop, bstop)),
                      ("batch run never interruptible", wrap % (run, stop) + wrap % (frun, fstop))):
        if not check_interruptible(bad):
            failures.append("self-test: a %s was not detected" % what)
    code = "export Foo, run!\nfunction run!(gd::GD, n::Integer; every=nothing)\nend\nconst Foo = 1\n"
    if check_runtests(code, "run!(gd, 5; every=1)\nx = Foo\n"):
        failures.append("self-test: a correct runtests.jl was rejected")
    for what, tests in (("misspelled call", "rum!(gd, 5)\n"),
                        ("unknown keyword", "run!(gd, 5; evry=1)\n"),
                        ("unknown import", "using TsRelu: Bar\n")):
        if not check_runtests(code, tests):
            failures.append("self-test: a %s in runtests.jl was not detected" % what)
    init = "function __init__()\n    _load_library()\n    v = version_number()\nend\n"
    if check_package(init, '[compat]\njulia = "1.9"\n'):
        failures.append("self-test: a correct package was rejected")
    for what, code_, proj in (("compat 1.6", init, '[compat]\njulia = "1.6"\n'),
                              ("top-level ENV", 'const libtsrelu = get(ENV, "X", "y")\n' + init,
                               '[compat]\njulia = "1.9"\n'),
                              ("__init__ without _load_library",
                               init.replace("    _load_library()\n", ""), '[compat]\njulia = "1.9"\n')):
        if not check_package(code_, proj):
            failures.append("self-test: a %s was not detected" % what)
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

    hconsts, statuses, version = header_constants(HEADER.read_text())
    probs = check_constants(strip_julia(text), PROJECT.read_text(), hconsts, statuses, version)
    report(not probs, "TSRELU_* constants (%d statuses), API version and Project.toml match the "
           "header (%s)" % (len(statuses), version), probs)
    probs = check_interruptible(strip_julia(text))
    report(not probs, "every run (%s) goes through _interruptible with its interrupt function"
           % ", ".join(sorted(RUNS)), probs)

    probs = check_package(strip_julia(text), PROJECT.read_text())
    report(not probs, "Project.toml's julia compat is >= 1.9 and __init__ loads the library", probs)
    ok, err = soname_resolves_to_loaded(lib)
    report(ok, "the loader resolves the soname the ccalls use to the file __init__ loaded by path",
           [err] if err else [])
    if RUNTESTS.exists():
        probs = check_runtests(strip_julia(text), strip_julia(RUNTESTS.read_text()))
        report(not probs, "every TsRelu name and keyword test/runtests.jl uses is defined", probs)
    else:
        report(False, "%s is missing" % RUNTESTS.relative_to(ROOT))
    examples = sorted(EXAMPLES.glob("*.jl"))
    report(len(examples) >= 2, "%d Julia examples in %s" % (len(examples), EXAMPLES.relative_to(ROOT)))
    for ex in examples:
        label = "examples/" + ex.name
        probs = check_runtests(strip_julia(text), strip_julia(ex.read_text()), label, EXAMPLE_BUILTINS)
        report(not probs, "every TsRelu name and keyword %s uses is exported and declared" % label, probs)

    print("test_julia_ccall: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
