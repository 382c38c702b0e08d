"""
    TsRelu

Julia binding of libtsrelu (exact population gradient descent for two-layer
ReLU teacher-student networks), a thin mirror of the C API in
`include/tsrelu.h` through `ccall`.

Memory layout: the C library stores the m x d student weights row-major
(W[i*d + c]); a column-major `d x m` Julia matrix has exactly that memory, so
here **column i of W is student neuron w_i** (and column j of V is teacher
neuron v_j). Teacher indices are 1-based in Julia (`0` = no teacher) and
0-based in C (`-1`).

The library is found when the module is loaded (`__init__`, not at
precompile time), in the order the Python package uses: `ENV["TSRELU_LIBRARY"]`,
the source tree's `lib/libtsrelu.so.1`, pkg-config's `libdir`, the system
loader (`LD_LIBRARY_PATH`, ld.so.cache); `TsRelu.library_path()` says which.
"""
module TsRelu

export Teacher, Student, GD, TsReluError,
       loss, loss_accurate, gradient, angles, nearest_teacher, components, deficit, balance,
       rate_fit, weights, output_weights, set_weights!, set_output_weights!, width, dim,
       run!, step!, set_observer!, set_step!, set_eta!, eta, set_train_output!, train_output,
       set_tolerances!, tolerances, iteration, progress, stop_value, stop_reason, student, teacher,
       gradient_norm,
       phase, phase_times, groups, group_switches, set_phase_thresholds!,
       save, load, set_step_state!, interrupt!,
       Batch, add!, state, set_threads!, SUMMARY_FIELDS,
       weak_recovery, equiangular_gram,
       Record, set_recorder!, capacity, missed, iterations, record_global, record_student,
       record_teacher, write_csv,
       hessian, hessian_vector, spectrum, newton,
       event_times, switches, rate_onset, event_quantile, on_event!,
       Flow, statistics, set_accuracy!, accuracy, solver, set_flow_flags!, flow_flags, record_time,
       set_sampling!, set_training_set!, sampling, sample_loss, training_loss

using Libdl

# Every ccall names the library by its soname. __init__ dlopens the file it
# finds (by path, RTLD_GLOBAL) before any ccall, and the dynamic loader
# resolves a soname to an object already loaded with that soname, so the
# ccalls reach that file, chosen at load time, never at precompile time.
const libtsrelu = "libtsrelu.so.1"
const LIBRARY_PATH = Ref{String}("")
const LIBRARY_HANDLE = Ref{Ptr{Cvoid}}(C_NULL)

"""
    library_candidates() -> [(how, path or name)]

Where `__init__` looks for the library, in order: `ENV["TSRELU_LIBRARY"]`
(then nothing else), the source tree's `lib/`, pkg-config's `libdir`, the
system loader.
"""
function library_candidates()
    env = get(ENV, "TSRELU_LIBRARY", "")
    isempty(env) || return [("TSRELU_LIBRARY", env)]
    found = Tuple{String,String}[]
    tree = normpath(joinpath(@__DIR__, "..", "..", "..", "lib", libtsrelu))
    isfile(tree) && push!(found, ("the source tree's lib/", tree))
    libdir = try
        readchomp(pipeline(`pkg-config --variable=libdir libtsrelu`; stderr=devnull))
    catch
        ""
    end
    !isempty(libdir) && isfile(joinpath(libdir, libtsrelu)) &&
        push!(found, ("pkg-config", joinpath(libdir, libtsrelu)))
    push!(found, ("the system loader", libtsrelu))
    return found
end

"""    library_path() : the file (or name) `__init__` loaded the library from."""
library_path() = LIBRARY_PATH[]

function _load_library()
    tried = String[]
    for (how, path) in library_candidates()
        h = Libdl.dlopen(path, Libdl.RTLD_LAZY | Libdl.RTLD_GLOBAL; throw_error=false)
        if h !== nothing
            LIBRARY_HANDLE[], LIBRARY_PATH[] = h, path
            return nothing
        end
        push!(tried, "$path ($how)")
    end
    error("TsRelu: libtsrelu not found; tried " * join(tried, ", ") *
          ". Build it (make all), install it (make install), or set ENV[\"TSRELU_LIBRARY\"]")
end

# The C API this wrapper mirrors: libtsrelu 1.x with x >= 1 (node TSRELU_1.1:
# tsrelu_gd_interrupt, tsrelu_batch_interrupt, TSRELU_INTERRUPTED, TSRELU_EBUSY).
const API_MAJOR = 1
const API_MINOR = 2

# Status codes (tsrelu.h; append-only).
const TSRELU_OK = Cint(0)
const TSRELU_STOPPED = Cint(1)
const TSRELU_CONVERGED = Cint(2)
const TSRELU_INTERRUPTED = Cint(3)
const TSRELU_EINVAL = Cint(-1)
const TSRELU_ENOMEM = Cint(-2)
const TSRELU_EDIM = Cint(-3)
const TSRELU_ENONFINITE = Cint(-4)
const TSRELU_EDIVERGED = Cint(-5)
const TSRELU_ELENGTH = Cint(-6)
const TSRELU_EIO = Cint(-7)
const TSRELU_EFORMAT = Cint(-8)
const TSRELU_EBUSY = Cint(-9)
const TSRELU_SCHEDULE_LINEAR = Cint(1)
const TSRELU_SCHEDULE_LOG = Cint(2)
# Why the latest run or step returned (tsrelu_gd_stop_reason, 1.1).
const TSRELU_STOP_NONE = Cint(0)
const TSRELU_STOP_STEPS = Cint(1)
const TSRELU_STOP_LOSS_TOL = Cint(2)
const TSRELU_STOP_GRAD_TOL = Cint(3)
const TSRELU_STOP_OBSERVER = Cint(4)
const TSRELU_STOP_STEP_RULE = Cint(5)
const TSRELU_STOP_INTERRUPT = Cint(6)
const TSRELU_STOP_ERROR = Cint(7)
const TSRELU_STOP_EVENT = Cint(8)

# Stop value returned by a callback whose Julia function threw; the
# exception is re-thrown by run!/step! after the C call returns.
const CALLBACK_RAISED = typemin(Cint)

# ------------------------------------------------------------------ status

"""
    TsReluError(status, name, message)

A libtsrelu failure: `name` is `tsrelu_status_name(status)` (e.g.
"TSRELU_EINVAL"), `message` the library's `tsrelu_last_error()`.
"""
struct TsReluError <: Exception
    status::Cint
    name::String
    message::String
end

Base.showerror(io::IO, e::TsReluError) = print(io, e.name, ": ", e.message)

status_name(s::Integer) =
    unsafe_string(ccall((:tsrelu_status_name, libtsrelu), Cstring, (Cint,), s))
status_string(s::Integer) =
    unsafe_string(ccall((:tsrelu_status_string, libtsrelu), Cstring, (Cint,), s))
last_error() = unsafe_string(ccall((:tsrelu_last_error, libtsrelu), Cstring, ()))
version_number() = Int(ccall((:tsrelu_version_number, libtsrelu), Cuint, ()))
version_string() = unsafe_string(ccall((:tsrelu_version_string, libtsrelu), Cstring, ()))
"""The kernels' instruction-set path, "avx512", "avx2" or "portable" (ENV TSRELU_ISA asks for one)."""
instruction_set() = unsafe_string(ccall((:tsrelu_isa, libtsrelu), Cstring, ()))

TsReluError(status::Integer, message::AbstractString) =
    TsReluError(Cint(status), status_name(status), String(message))

# Throw on a negative status with this thread's detailed message (or with
# `message`, read by the thread that made the call).
function check(st::Cint, message::AbstractString=st < 0 ? last_error() : "")
    st < 0 && throw(TsReluError(st, status_name(st), message))
    return st
end

function __init__()
    _load_library()
    v = version_number()
    major, minor = div(v, 10000), div(v, 100) % 100
    if major != API_MAJOR || minor < API_MINOR
        error("TsRelu: $(library_path()) is libtsrelu $(version_string()) (version number $v), " *
              "but this wrapper needs libtsrelu $(API_MAJOR).x with x >= $(API_MINOR); " *
              "set ENV[\"TSRELU_LIBRARY\"] to a compatible libtsrelu.so.$(API_MAJOR)")
    end
    OBSERVER_C[] = @cfunction(_observer_trampoline, Cint, (Ptr{Cvoid}, Ptr{Cvoid}))
    FLOW_OBSERVER_C[] = @cfunction(_flow_observer_trampoline, Cint, (Ptr{Cvoid}, Ptr{Cvoid}))
    STEP_C[] = @cfunction(_step_trampoline, Cint,
                          (Ptr{Cvoid}, Ptr{Cdouble}, Ptr{Cdouble}, Ptr{Cdouble}, Ptr{Cdouble},
                           Ptr{Cvoid}))
    EVENT_C[] = @cfunction(_event_trampoline, Cint,
                           (Ptr{Cvoid}, Cint, Cint, Csize_t, Cint, Cdouble, Ptr{Cvoid}))
    return nothing
end

# ------------------------------------------------------------------ handles

"""
    Teacher(V::AbstractMatrix, b=nothing)
    Teacher(:orthogonal, k, d; norm=1.0, seed=0)
    Teacher(:gram, G, d; b=nothing, seed=0)

The fixed target network. `V` is d x k (column j = v_j); `b` the k output
weights (default all 1). The C handle holds its own copy and is freed by a
finalizer or `close`. `:gram` (1.1) builds k <= d neurons with V'V = G (G a
k x k symmetric positive definite matrix, e.g. from `equiangular_gram`),
in the random frame of `:orthogonal` for the same seed
(tsrelu_teacher_create_gram).
"""
mutable struct Teacher
    ptr::Ptr{Cvoid}
    function Teacher(p::Ptr{Cvoid})
        t = new(p)
        finalizer(close, t)
        return t
    end
end

"""
    Student(W::AbstractMatrix, a=nothing)
    Student(:gaussian, m, d; sigma, seed=0)
    Student(:weak_recovery, t::Teacher, m; zeta, sigma, counts=nothing, seed=0)

The trained network. `W` is d x m (column i = w_i); `a` the m output
weights (default all 1). `:weak_recovery` (1.1): see `weak_recovery`, which
also returns the assignment.
"""
mutable struct Student
    ptr::Ptr{Cvoid}
    function Student(p::Ptr{Cvoid})
        s = new(p)
        finalizer(close, s)
        return s
    end
end

function Base.close(t::Teacher)
    if t.ptr != C_NULL
        ccall((:tsrelu_teacher_free, libtsrelu), Cvoid, (Ptr{Cvoid},), t.ptr)
        t.ptr = C_NULL
    end
    return nothing
end

function Base.close(s::Student)
    if s.ptr != C_NULL
        ccall((:tsrelu_student_free, libtsrelu), Cvoid, (Ptr{Cvoid},), s.ptr)
        s.ptr = C_NULL
    end
    return nothing
end

function handle(x)
    x.ptr == C_NULL && throw(TsReluError(TSRELU_EINVAL, "this $(typeof(x)) is closed"))
    return x.ptr
end

function _vector_or_null(x, n::Integer, what::AbstractString)
    x === nothing && return nothing
    v = Vector{Float64}(x)
    length(v) == n ||
        throw(TsReluError(TSRELU_ELENGTH, "$what has $(length(v)) entries, $n required"))
    return v
end

_cptr(v::Nothing) = Ptr{Cdouble}(C_NULL)
_cptr(v::Vector{Float64}) = v

function Teacher(V::AbstractMatrix{<:Real}, b=nothing)
    Vc = Matrix{Float64}(V)
    d, k = size(Vc)
    bc = _vector_or_null(b, k, "Teacher: b")
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve Vc bc begin
        check(ccall((:tsrelu_teacher_create, libtsrelu), Cint,
                    (Csize_t, Csize_t, Ptr{Cdouble}, Ptr{Cdouble}, Ref{Ptr{Cvoid}}),
                    k, d, Vc, _cptr(bc), out))
    end
    return Teacher(out[])
end

function Teacher(kind::Symbol, k::Integer, d::Integer; norm::Real=1.0, seed::Integer=0)
    kind === :orthogonal || throw(ArgumentError("Teacher: unknown kind $kind (use :orthogonal)"))
    (k >= 0 && d >= 0) || throw(TsReluError(TSRELU_EINVAL, "Teacher: k=$k and d=$d must be >= 0"))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:tsrelu_teacher_create_orthogonal, libtsrelu), Cint,
                (Csize_t, Csize_t, Cdouble, UInt64, Ref{Ptr{Cvoid}}),
                k, d, norm, UInt64(seed), out))
    return Teacher(out[])
end

function Student(W::AbstractMatrix{<:Real}, a=nothing)
    Wc = Matrix{Float64}(W)
    d, m = size(Wc)
    ac = _vector_or_null(a, m, "Student: a")
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve Wc ac begin
        check(ccall((:tsrelu_student_create, libtsrelu), Cint,
                    (Csize_t, Csize_t, Ptr{Cdouble}, Ptr{Cdouble}, Ref{Ptr{Cvoid}}),
                    m, d, Wc, _cptr(ac), out))
    end
    return Student(out[])
end

function Student(kind::Symbol, m::Integer, d::Integer; sigma::Real, seed::Integer=0)
    kind === :gaussian || throw(ArgumentError("Student: unknown kind $kind (use :gaussian)"))
    (m >= 0 && d >= 0) || throw(TsReluError(TSRELU_EINVAL, "Student: m=$m and d=$d must be >= 0"))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:tsrelu_student_create_gaussian, libtsrelu), Cint,
                (Csize_t, Csize_t, Cdouble, UInt64, Ref{Ptr{Cvoid}}),
                m, d, sigma, UInt64(seed), out))
    return Student(out[])
end

function Teacher(kind::Symbol, G::AbstractMatrix{<:Real}, d::Integer; b=nothing, seed::Integer=0)
    kind === :gram || throw(ArgumentError("Teacher: unknown kind $kind (use :gram with a matrix G)"))
    d >= 0 || throw(TsReluError(TSRELU_EINVAL, "Teacher: d=$d must be >= 0"))
    Gc = Matrix{Float64}(G) # symmetric: column-major is row-major
    k = size(Gc, 1)
    size(Gc, 2) == k ||
        throw(TsReluError(TSRELU_ELENGTH, "Teacher: G is $(size(Gc)), a square k x k matrix required"))
    bc = _vector_or_null(b, k, "Teacher: b")
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve Gc bc begin
        check(ccall((:tsrelu_teacher_create_gram, libtsrelu), Cint,
                    (Csize_t, Csize_t, Ptr{Cdouble}, Csize_t, Ptr{Cdouble}, Csize_t, UInt64,
                     Ref{Ptr{Cvoid}}),
                    k, d, Gc, length(Gc), _cptr(bc), bc === nothing ? 0 : k, UInt64(seed), out))
    end
    return Teacher(out[])
end

"""
    equiangular_gram(k, alpha, norms=1.0)

The k x k Gram matrix of neurons with all pairwise angles `alpha` and norms
`norms` (a number or k numbers): G[i,j] = n_i n_j cos(alpha), G[i,i] = n_i^2.
Positive definite (usable by `Teacher(:gram, G, d)`) iff cos(alpha) > -1/(k-1).
"""
function equiangular_gram(k::Integer, alpha::Real, norms=1.0)
    n = norms isa Real ? fill(Float64(norms), k) : Vector{Float64}(norms)
    length(n) == k ||
        throw(TsReluError(TSRELU_ELENGTH, "equiangular_gram: norms has $(length(n)) entries, $k required"))
    c = cos(Float64(alpha))
    return [i == j ? n[i] * n[i] : n[i] * n[j] * c for i in 1:k, j in 1:k]
end

"""
    weak_recovery(t::Teacher, m; zeta, sigma, counts=nothing, seed=0) -> (student, tau)

m students in weak recovery for `t` (tsrelu_student_create_weak_recovery):
student i at angle exactly `zeta` (0 < zeta < pi/2) from its teacher tau[i]
(1-based) and of norm exactly `sigma`, the rest of its direction uniform
orthogonal to that teacher; a = 1. `counts` (k numbers adding up to m):
counts[1] consecutive students for teacher 1, then counts[2] for teacher 2,
...; `nothing`: round-robin, tau[i] = mod(i - 1, k) + 1.
"""
function weak_recovery(t::Teacher, m::Integer; zeta::Real, sigma::Real, counts=nothing,
                       seed::Integer=0)
    m >= 0 || throw(TsReluError(TSRELU_EINVAL, "weak_recovery: m=$m must be >= 0"))
    cc = counts === nothing ? nothing : Vector{Csize_t}(counts)
    tau = Vector{Cint}(undef, m)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve t cc tau begin
        check(ccall((:tsrelu_student_create_weak_recovery, libtsrelu), Cint,
                    (Ptr{Cvoid}, Csize_t, Ptr{Csize_t}, Csize_t, Cdouble, Cdouble, UInt64,
                     Ptr{Cint}, Csize_t, Ref{Ptr{Cvoid}}),
                    handle(t), m, cc === nothing ? Ptr{Csize_t}(C_NULL) : pointer(cc),
                    cc === nothing ? 0 : length(cc), zeta, sigma, UInt64(seed), tau, m, out))
    end
    return Student(out[]), Int.(tau) .+ 1
end

function Student(kind::Symbol, t::Teacher, m::Integer; zeta::Real, sigma::Real, counts=nothing,
                 seed::Integer=0)
    kind === :weak_recovery ||
        throw(ArgumentError("Student: unknown kind $kind (use :weak_recovery with a Teacher)"))
    return first(weak_recovery(t, m; zeta=zeta, sigma=sigma, counts=counts, seed=seed))
end

"""    copy(s::Student) : an independent deep copy (tsrelu_student_copy)."""
function Base.copy(s::Student)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve s check(ccall((:tsrelu_student_copy, libtsrelu), Cint,
                               (Ptr{Cvoid}, Ref{Ptr{Cvoid}}), handle(s), out))
    return Student(out[])
end

# Raw accessors on C pointers, shared with the GD state's views.
_twidth(p::Ptr{Cvoid}) = Int(ccall((:tsrelu_teacher_width, libtsrelu), Csize_t, (Ptr{Cvoid},), p))
_tdim(p::Ptr{Cvoid}) = Int(ccall((:tsrelu_teacher_dim, libtsrelu), Csize_t, (Ptr{Cvoid},), p))
_swidth(p::Ptr{Cvoid}) = Int(ccall((:tsrelu_student_width, libtsrelu), Csize_t, (Ptr{Cvoid},), p))
_sdim(p::Ptr{Cvoid}) = Int(ccall((:tsrelu_student_dim, libtsrelu), Csize_t, (Ptr{Cvoid},), p))

function _tweights(p::Ptr{Cvoid})
    V = Matrix{Float64}(undef, _tdim(p), _twidth(p))
    check(ccall((:tsrelu_teacher_weights, libtsrelu), Cint,
                (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), p, V, length(V)))
    return V
end

function _toutput(p::Ptr{Cvoid})
    b = Vector{Float64}(undef, _twidth(p))
    check(ccall((:tsrelu_teacher_output_weights, libtsrelu), Cint,
                (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), p, b, length(b)))
    return b
end

function _sweights(p::Ptr{Cvoid})
    W = Matrix{Float64}(undef, _sdim(p), _swidth(p))
    check(ccall((:tsrelu_student_weights, libtsrelu), Cint,
                (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), p, W, length(W)))
    return W
end

function _soutput(p::Ptr{Cvoid})
    a = Vector{Float64}(undef, _swidth(p))
    check(ccall((:tsrelu_student_output_weights, libtsrelu), Cint,
                (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), p, a, length(a)))
    return a
end

"""    width(t::Teacher) = k, width(s::Student) = m"""
width(t::Teacher) = GC.@preserve t _twidth(handle(t))
width(s::Student) = GC.@preserve s _swidth(handle(s))
"""    dim(x) : the input dimension d."""
dim(t::Teacher) = GC.@preserve t _tdim(handle(t))
dim(s::Student) = GC.@preserve s _sdim(handle(s))
"""    weights(x) : a copy of V (d x k) or W (d x m)."""
weights(t::Teacher) = GC.@preserve t _tweights(handle(t))
weights(s::Student) = GC.@preserve s _sweights(handle(s))
"""    output_weights(x) : a copy of b (k) or a (m)."""
output_weights(t::Teacher) = GC.@preserve t _toutput(handle(t))
output_weights(s::Student) = GC.@preserve s _soutput(handle(s))

"""    set_weights!(s, W) : replace W (d x m, finite); unchanged on error."""
function set_weights!(s::Student, W::AbstractArray{<:Real})
    Wc = Array{Float64}(W)
    GC.@preserve s Wc check(ccall((:tsrelu_student_set_weights, libtsrelu), Cint,
                                  (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), handle(s), Wc, length(Wc)))
    return s
end

"""    set_output_weights!(s, a) : replace a (m entries, finite)."""
function set_output_weights!(s::Student, a::AbstractVector{<:Real})
    ac = Vector{Float64}(a)
    GC.@preserve s ac check(ccall((:tsrelu_student_set_output_weights, libtsrelu), Cint,
                                  (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), handle(s), ac, length(ac)))
    return s
end

Base.show(io::IO, t::Teacher) =
    t.ptr == C_NULL ? print(io, "TsRelu.Teacher(closed)") :
    print(io, "TsRelu.Teacher(k=", width(t), ", d=", dim(t), ")")
Base.show(io::IO, s::Student) =
    s.ptr == C_NULL ? print(io, "TsRelu.Student(closed)") :
    print(io, "TsRelu.Student(m=", width(s), ", d=", dim(s), ")")

# ------------------------------------------------------------------ loss, gradient

function _loss(sp::Ptr{Cvoid}, tp::Ptr{Cvoid}, accurate::Bool)
    L = Ref{Cdouble}(NaN)
    if accurate
        check(ccall((:tsrelu_loss_accurate, libtsrelu), Cint,
                    (Ptr{Cvoid}, Ptr{Cvoid}, Ref{Cdouble}), sp, tp, L))
    else
        check(ccall((:tsrelu_loss, libtsrelu), Cint,
                    (Ptr{Cvoid}, Ptr{Cvoid}, Ref{Cdouble}), sp, tp, L))
    end
    return L[]
end

function _gradient(sp::Ptr{Cvoid}, tp::Ptr{Cvoid}, output::Bool)
    m, d = _swidth(sp), _sdim(sp)
    gW = Matrix{Float64}(undef, d, m)
    ga = output ? Vector{Float64}(undef, m) : nothing
    GC.@preserve ga check(ccall((:tsrelu_gradient, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cdouble}, Csize_t, Ptr{Cdouble}, Csize_t),
                                sp, tp, gW, length(gW), _cptr(ga), output ? m : 0))
    return output ? (gW, ga) : gW
end

"""    loss(s, t) : L = 1/2 E[(f(x) - f*(x))^2] in double precision."""
loss(s::Student, t::Teacher) = GC.@preserve s t _loss(handle(s), handle(t), false)
"""    loss_accurate(s, t) : the loss in quadruple precision (tiny excess risk)."""
loss_accurate(s::Student, t::Teacher) = GC.@preserve s t _loss(handle(s), handle(t), true)
"""    gradient(s, t; output=false) : dL/dW (d x m), or (dL/dW, dL/da)."""
gradient(s::Student, t::Teacher; output::Bool=false) =
    GC.@preserve s t _gradient(handle(s), handle(t), output)

# ------------------------------------------------------------------ second order (1.2)
# Variables: vec(W) with W row-major in C, i.e. the d x m Julia weights
# column by column (w_1, then w_2, ...), then a with output=true. The
# Hessian is symmetric, so its row- and column-major layouts coincide.

const TSRELU_HESSIAN_OUTPUT = 1
const TSRELU_NEWTON_DESCENT = 2
const TSRELU_NEWTON_LEN = 10

_nvar(sp::Ptr{Cvoid}, output::Bool) = _swidth(sp) * _sdim(sp) + (output ? _swidth(sp) : 0)
_hflags(output::Bool) = Cuint(output ? TSRELU_HESSIAN_OUTPUT : 0)

"""    hessian(s, t; output=false) : the N x N Hessian of L (N = m d, plus m with output)."""
function hessian(s::Student, t::Teacher; output::Bool=false)
    GC.@preserve s t begin
        sp, tp = handle(s), handle(t)
        N = _nvar(sp, output)
        H = Matrix{Float64}(undef, N, N)
        check(ccall((:tsrelu_hessian, libtsrelu), Cint,
                    (Ptr{Cvoid}, Ptr{Cvoid}, Cuint, Ptr{Cdouble}, Csize_t),
                    sp, tp, _hflags(output), H, length(H)))
        return H
    end
end

"""    hessian_vector(s, t, x; output=false) : H x without forming H (x: N entries)."""
function hessian_vector(s::Student, t::Teacher, x::AbstractArray{<:Real}; output::Bool=false)
    xv = Vector{Float64}(vec(x))
    GC.@preserve s t begin
        sp, tp = handle(s), handle(t)
        N = _nvar(sp, output)
        y = Vector{Float64}(undef, N)
        check(ccall((:tsrelu_hessian_vector, libtsrelu), Cint,
                    (Ptr{Cvoid}, Ptr{Cvoid}, Cuint, Ptr{Cdouble}, Csize_t, Ptr{Cdouble}, Csize_t),
                    sp, tp, _hflags(output), xv, length(xv), y, N))
        return y
    end
end

"""    spectrum(s, t; output=false, rel_tol=1e-9, vectors=false) :
(values, vectors, negative, flat, positive): ascending eigenvalues of the
Hessian, eigenvectors as columns (or nothing) and the counts, flat meaning
|lambda| <= rel_tol * max |lambda|."""
function spectrum(s::Student, t::Teacher; output::Bool=false, rel_tol::Real=1e-9,
                  vectors::Bool=false)
    GC.@preserve s t begin
        sp, tp = handle(s), handle(t)
        N = _nvar(sp, output)
        ev = Vector{Float64}(undef, N)
        Z = vectors ? Matrix{Float64}(undef, N, N) : nothing
        cnt = zeros(Csize_t, 3)
        GC.@preserve Z check(ccall((:tsrelu_spectrum, libtsrelu), Cint,
                    (Ptr{Cvoid}, Ptr{Cvoid}, Cuint, Cdouble, Ptr{Cdouble}, Csize_t, Ptr{Cdouble},
                     Csize_t, Ptr{Csize_t}, Csize_t),
                    sp, tp, _hflags(output), Float64(rel_tol), ev, N,
                    vectors ? pointer(Z) : Ptr{Cdouble}(C_NULL), vectors ? N * N : 0, cnt, 3))
        # eigenvector j is C row j: column j of the column-major array
        return (values=ev, vectors=Z, negative=Int(cnt[1]), flat=Int(cnt[2]), positive=Int(cnt[3]))
    end
end

"""    newton(s, t; output=false, descent=false, grad_tol=1e-13, rel_tol=1e-9, max_iter=100) :
Newton's method from a copy of s to a stationary point. Returns
(student, converged, iterations, grad_norm, grad_scale, loss, negative, flat,
positive, min_positive, min_eig, max_eig); `negative` is the Morse index."""
function newton(s::Student, t::Teacher; output::Bool=false, descent::Bool=false,
                grad_tol::Real=1e-13, rel_tol::Real=1e-9, max_iter::Integer=100)
    c = copy(s)
    info = Vector{Float64}(undef, TSRELU_NEWTON_LEN)
    flags = Cuint((output ? TSRELU_HESSIAN_OUTPUT : 0) | (descent ? TSRELU_NEWTON_DESCENT : 0))
    st = GC.@preserve c t check(ccall((:tsrelu_newton, libtsrelu), Cint,
                (Ptr{Cvoid}, Ptr{Cvoid}, Cuint, Cdouble, Cdouble, Csize_t, Ptr{Cdouble}, Csize_t),
                handle(c), handle(t), flags, Float64(grad_tol), Float64(rel_tol), max_iter, info,
                length(info)))
    return (student=c, converged=(st == TSRELU_CONVERGED), iterations=Int(info[1]),
            grad_norm=info[2], grad_scale=info[3], loss=info[4], negative=Int(info[5]),
            flat=Int(info[6]), positive=Int(info[7]), min_positive=info[8], min_eig=info[9],
            max_eig=info[10])
end

# ------------------------------------------------------------------ metrics
# Teacher indices: 1-based here, 0 = none (C: 0-based, -1 = none).

_tau_c(tau::Nothing) = (Ptr{Cint}(C_NULL), 0)
_tau_c(tau::AbstractVector{<:Integer}) = (Cint[Cint(x) - Cint(1) for x in tau], length(tau))
_cptr(v::Ptr{Cint}) = v
_cptr(v::Vector{Cint}) = v

function _angles(sp::Ptr{Cvoid}, tp::Ptr{Cvoid})
    th = Matrix{Float64}(undef, _twidth(tp), _swidth(sp))  # th[j, i] = angle(w_i, v_j)
    check(ccall((:tsrelu_angles, libtsrelu), Cint,
                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), sp, tp, th, length(th)))
    return th
end

function _nearest(sp::Ptr{Cvoid}, tp::Ptr{Cvoid})
    tau = Vector{Cint}(undef, _swidth(sp))
    check(ccall((:tsrelu_nearest_teacher, libtsrelu), Cint,
                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cint}, Csize_t), sp, tp, tau, length(tau)))
    return Int.(tau) .+ 1
end

function _components(sp::Ptr{Cvoid}, tp::Ptr{Cvoid}, tau)
    m = _swidth(sp)
    tc, n = _tau_c(tau)
    radial, tangential = Vector{Float64}(undef, m), Vector{Float64}(undef, m)
    GC.@preserve tc check(ccall((:tsrelu_components, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cint}, Csize_t, Ptr{Cdouble}, Ptr{Cdouble}, Csize_t),
                                sp, tp, _cptr(tc), n, radial, tangential, m))
    return (radial=radial, tangential=tangential)
end

function _deficit(sp::Ptr{Cvoid}, tp::Ptr{Cvoid}, tau)
    k = _twidth(tp)
    tc, n = _tau_c(tau)
    H = Vector{Float64}(undef, k)
    GC.@preserve tc check(ccall((:tsrelu_deficit, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cint}, Csize_t, Ptr{Cdouble}, Csize_t),
                                sp, tp, _cptr(tc), n, H, k))
    return H
end

function _balance(sp::Ptr{Cvoid}, tp::Ptr{Cvoid}, tau)
    k = _twidth(tp)
    tc, n = _tau_c(tau)
    size_ = Vector{Cint}(undef, k)
    rmin, rmax, excess = Vector{Float64}(undef, k), Vector{Float64}(undef, k), Vector{Float64}(undef, k)
    GC.@preserve tc check(ccall((:tsrelu_balance, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cint}, Csize_t, Ptr{Cint}, Ptr{Cdouble},
                                 Ptr{Cdouble}, Ptr{Cdouble}, Csize_t),
                                sp, tp, _cptr(tc), n, size_, rmin, rmax, excess, k))
    return (size=Int.(size_), ratio_min=rmin, ratio_max=rmax, excess=excess)
end

"""    angles(s, t) : k x m matrix, [j, i] = angle between w_i and v_j (radians)."""
angles(s::Student, t::Teacher) = GC.@preserve s t _angles(handle(s), handle(t))
"""    nearest_teacher(s, t) : the closest teacher of each student (1-based; 0 for a zero student)."""
nearest_teacher(s::Student, t::Teacher) = GC.@preserve s t _nearest(handle(s), handle(t))
"""    components(s, t; tau=nothing) : (radial, tangential) per student."""
components(s::Student, t::Teacher; tau=nothing) =
    GC.@preserve s t _components(handle(s), handle(t), tau)
"""    deficit(s, t; tau=nothing) : projection deficit H_l per teacher."""
deficit(s::Student, t::Teacher; tau=nothing) = GC.@preserve s t _deficit(handle(s), handle(t), tau)
"""    balance(s, t; tau=nothing) : (size, ratio_min, ratio_max, excess) per teacher."""
balance(s::Student, t::Teacher; tau=nothing) = GC.@preserve s t _balance(handle(s), handle(t), tau)

"""
    rate_fit(t, L; t_lo=0.0, t_hi=Inf) -> (slope, intercept)

Least-squares fit of log L = slope * log t + intercept over the usable points.
"""
function rate_fit(t::AbstractVector{<:Real}, L::AbstractVector{<:Real}; t_lo::Real=0.0, t_hi::Real=Inf)
    tc, Lc = Vector{Float64}(t), Vector{Float64}(L)
    length(tc) == length(Lc) ||
        throw(TsReluError(TSRELU_ELENGTH, "rate_fit: t has $(length(tc)) entries but L has $(length(Lc))"))
    slope, intercept = Ref{Cdouble}(NaN), Ref{Cdouble}(NaN)
    check(ccall((:tsrelu_rate_fit, libtsrelu), Cint,
                (Ptr{Cdouble}, Ptr{Cdouble}, Csize_t, Cdouble, Cdouble, Ref{Cdouble}, Ref{Cdouble}),
                tc, Lc, length(tc), t_lo, t_hi, slope, intercept))
    return (slope[], intercept[])
end

# ------------------------------------------------------------------ gradient descent

"""
    GD(t::Teacher, s::Student, eta; train_output=false)

Gradient descent on teacher `t` from student `s` (both copied by the C state:
they may be closed or collected at once). Callbacks: see `run!`,
`set_observer!`, `set_step!`.
"""
mutable struct GD
    ptr::Ptr{Cvoid}
    m::Int
    d::Int
    k::Int
    observer::Any     # f(gd) while installed, else nothing
    schedule::Tuple{Cint,UInt64}
    step_rule::Any    # f(gd, W, gW, a, ga) while installed, else nothing
    pending::Any      # exception thrown by a callback, re-thrown after the C call
    pending_bt::Any   # its backtrace (catch_backtrace()), kept for debugging
    step_state::Union{Vector{Float64},Nothing}  # kept alive while declared
    depth::Int        # > 0 while a callback of this GD runs
    owner::Any        # the Batch owning this state, or nothing (then we own it)
    function GD(p::Ptr{Cvoid}, m::Integer, d::Integer, k::Integer; owner=nothing)
        gd = new(p, m, d, k, nothing, (Cint(0), UInt64(0)), nothing, nothing, nothing,
                 nothing, 0, owner)
        owner === nothing && finalizer(close, gd)
        return gd
    end
end

function handle(gd::GD)
    gd.owner !== nothing && gd.owner.ptr == C_NULL &&
        throw(TsReluError(TSRELU_EINVAL, "this GD belongs to a closed Batch"))
    gd.ptr == C_NULL && throw(TsReluError(TSRELU_EINVAL, "this GD is closed"))
    return gd.ptr
end

function GD(t::Teacher, s::Student, eta::Real; train_output::Bool=false)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve t s check(ccall((:tsrelu_gd_create, libtsrelu), Cint,
                                 (Ptr{Cvoid}, Ptr{Cvoid}, Cdouble, Ref{Ptr{Cvoid}}),
                                 handle(t), handle(s), eta, out))
    gd = GD(out[], width(s), dim(s), width(t))
    train_output && set_train_output!(gd, true)
    return gd
end

# ---- checkpoints

"""    save(gd, path) : write a checkpoint atomically (callbacks are not saved)."""
function save(gd::GD, path::AbstractString)
    GC.@preserve gd check(ccall((:tsrelu_gd_save, libtsrelu), Cint, (Ptr{Cvoid}, Cstring),
                                handle(gd), path))
    return gd
end

"""
    load(GD, path) -> GD

A new GD state from a checkpoint; running it continues bit for bit. Install
callbacks again, and declare the step state again to restore it.
"""
function load(::Type{GD}, path::AbstractString)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:tsrelu_gd_load, libtsrelu), Cint, (Cstring, Ref{Ptr{Cvoid}}), path, out))
    p = out[]
    sp = ccall((:tsrelu_gd_student, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), p)
    tp = ccall((:tsrelu_gd_teacher, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), p)
    return GD(p, _swidth(sp), _sdim(sp), _twidth(tp))
end

"""
    set_step_state!(gd, state::Vector{Float64})   set_step_state!(gd, nothing)

Declare `state` (updated in place by the step rule, e.g. a momentum buffer)
as saved by `save`; on a loaded GD its saved contents are copied into it.
The GD keeps a reference to `state` while it is declared.
"""
function set_step_state!(gd::GD, state::Union{Vector{Float64},Nothing})
    n = state === nothing ? 0 : length(state)
    p = state === nothing ? Ptr{Cdouble}(C_NULL) : pointer(state)
    GC.@preserve gd state check(ccall((:tsrelu_gd_set_step_state, libtsrelu), Cint,
                                      (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t), handle(gd), p, n))
    gd.step_state = state
    return state
end

function Base.close(gd::GD)
    gd.depth > 0 && throw(TsReluError(TSRELU_EBUSY, "close(::GD) inside a callback of the same GD"))
    if gd.ptr != C_NULL
        # a Batch's state is freed with the batch; ours we free
        gd.owner === nothing && ccall((:tsrelu_gd_free, libtsrelu), Cvoid, (Ptr{Cvoid},), gd.ptr)
        gd.ptr = C_NULL
    end
    gd.observer = nothing
    gd.step_rule = nothing
    return nothing
end

function _mutable(gd::GD, what::AbstractString)
    gd.depth > 0 && throw(TsReluError(TSRELU_EBUSY, "$what is not allowed inside a callback of the same GD"))
    return handle(gd)
end

Base.show(io::IO, gd::GD) =
    gd.ptr == C_NULL ? print(io, "TsRelu.GD(closed)") :
    print(io, "TsRelu.GD(m=", gd.m, ", k=", gd.k, ", d=", gd.d, ", iteration=", iteration(gd), ")")

# Views owned by the C state (valid while gd lives).
_gd_student(gd::GD) = ccall((:tsrelu_gd_student, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), handle(gd))
_gd_teacher(gd::GD) = ccall((:tsrelu_gd_teacher, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), handle(gd))

"""    eta(gd), set_eta!(gd, eta) : the step size."""
eta(gd::GD) = GC.@preserve gd ccall((:tsrelu_gd_eta, libtsrelu), Cdouble, (Ptr{Cvoid},), handle(gd))
function set_eta!(gd::GD, eta::Real)
    GC.@preserve gd check(ccall((:tsrelu_gd_set_eta, libtsrelu), Cint, (Ptr{Cvoid}, Cdouble),
                                handle(gd), eta))
    return gd
end

"""    set_train_output!(gd, on) : also train the output weights a."""
function set_train_output!(gd::GD, on::Bool)
    GC.@preserve gd check(ccall((:tsrelu_gd_set_train_output, libtsrelu), Cint, (Ptr{Cvoid}, Cint),
                                handle(gd), on ? 1 : 0))
    return gd
end

"""    train_output(gd) : whether the output weights a are trained (restored by load)."""
train_output(gd::GD) = GC.@preserve gd ccall((:tsrelu_gd_train_output, libtsrelu), Cint,
                                             (Ptr{Cvoid},), handle(gd)) != 0

"""    tolerances(gd) : (loss_tol, grad_tol) as set with set_tolerances!."""
function tolerances(gd::GD)
    lt, gt = Ref{Cdouble}(0), Ref{Cdouble}(0)
    GC.@preserve gd check(ccall((:tsrelu_gd_tolerances, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{Cdouble}, Ref{Cdouble}), handle(gd), lt, gt))
    return (lt[], gt[])
end

"""    set_tolerances!(gd; loss_tol=0, grad_tol=0) : run! returns :converged when met."""
function set_tolerances!(gd::GD; loss_tol::Real=0.0, grad_tol::Real=0.0)
    GC.@preserve gd check(ccall((:tsrelu_gd_set_tolerances, libtsrelu), Cint,
                                (Ptr{Cvoid}, Cdouble, Cdouble), handle(gd), loss_tol, grad_tol))
    return gd
end

"""
    set_sampling!(gd, batch; n_train=0, seed=0) : step on the gradient of the empirical
    loss of `batch` inputs (docs/sgd.md): n_train = 0 online SGD (fresh Gaussian inputs
    each step), n_train >= batch a training set generated from `seed` (minibatches without
    replacement). batch = 0 returns to exact GD. loss(gd), observers and tolerances still
    see the exact population loss. (1.2)
"""
function set_sampling!(gd::GD, batch::Integer; n_train::Integer=0, seed::Integer=0)
    GC.@preserve gd check(ccall((:tsrelu_gd_set_sampling, libtsrelu), Cint,
                                (Ptr{Cvoid}, Csize_t, Csize_t, UInt64, Cuint),
                                handle(gd), batch, n_train, seed, 0))
    return gd
end

"""
    set_training_set!(gd, X, batch; seed=0) : the caller's training set, X a d x n matrix
    (one input per column: the memory of the C library's n x d row-major array), labelled
    by the teacher; minibatches of `batch` columns without replacement. (1.2)
"""
function set_training_set!(gd::GD, X::AbstractMatrix{<:Real}, batch::Integer; seed::Integer=0)
    Xc = Matrix{Float64}(X)
    GC.@preserve gd Xc check(ccall((:tsrelu_gd_set_training_set, libtsrelu), Cint,
                                   (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t, Csize_t, UInt64, Cuint),
                                   handle(gd), Xc, length(Xc), batch, seed, 0))
    return gd
end

"""    sampling(gd) : (batch, n_train); (0, 0) for exact GD, (B, 0) for online SGD. (1.2)"""
function sampling(gd::GD)
    b, n = Ref{Csize_t}(0), Ref{Csize_t}(0)
    GC.@preserve gd check(ccall((:tsrelu_gd_sampling, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{Csize_t}, Ref{Csize_t}), handle(gd), b, n))
    return (Int(b[]), Int(n[]))
end

"""    sample_loss(gd) : the empirical loss of the latest sampled step's batch. (1.2)"""
function sample_loss(gd::GD)
    L = Ref{Cdouble}(NaN)
    GC.@preserve gd check(ccall((:tsrelu_gd_sample_loss, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{Cdouble}), handle(gd), L))
    return L[]
end

"""    training_loss(gd) : the empirical loss over the whole training set. (1.2)"""
function training_loss(gd::GD)
    L = Ref{Cdouble}(NaN)
    GC.@preserve gd check(ccall((:tsrelu_gd_training_loss, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{Cdouble}), handle(gd), L))
    return L[]
end

"""    iteration(gd) : iteration number of the current iterate."""
iteration(gd::GD) =
    Int(GC.@preserve gd ccall((:tsrelu_gd_iteration, libtsrelu), UInt64, (Ptr{Cvoid},), handle(gd)))
"""    progress(gd) : the iteration of the latest committed step, safe to read from
    another task or thread while `run!(gd)` runs (tsrelu_gd_progress)."""
progress(gd::GD) =
    Int(GC.@preserve gd ccall((:tsrelu_gd_progress, libtsrelu), UInt64, (Ptr{Cvoid},), handle(gd)))
"""    stop_value(gd) : the non-zero value of the callback that stopped the latest run."""
stop_value(gd::GD) =
    Int(GC.@preserve gd ccall((:tsrelu_gd_stop_value, libtsrelu), Cint, (Ptr{Cvoid},), handle(gd)))

const _STOP_SYMBOL = Dict(TSRELU_STOP_NONE => :none, TSRELU_STOP_STEPS => :steps,
                          TSRELU_STOP_LOSS_TOL => :loss_tol, TSRELU_STOP_GRAD_TOL => :grad_tol,
                          TSRELU_STOP_OBSERVER => :observer, TSRELU_STOP_STEP_RULE => :step_rule,
                          TSRELU_STOP_INTERRUPT => :interrupt, TSRELU_STOP_ERROR => :error,
                          TSRELU_STOP_EVENT => :event)

"""
    stop_reason(gd) : why the latest run or step returned: :steps, :loss_tol,
    :grad_tol, :observer, :step_rule, :interrupt, :error (:none before the
    first one).
"""
function stop_reason(gd::GD)
    r = GC.@preserve gd ccall((:tsrelu_gd_stop_reason, libtsrelu), Cint, (Ptr{Cvoid},), handle(gd))
    return get(_STOP_SYMBOL, r, Symbol("stop_reason_", r))
end

"""    student(gd) : an independent Student copy of the current iterate."""
function student(gd::GD)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve gd check(ccall((:tsrelu_student_copy, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{Ptr{Cvoid}}), _gd_student(gd), out))
    return Student(out[])
end

"""    teacher(gd) : an independent Teacher copy of the state's teacher."""
teacher(gd::GD) = GC.@preserve gd Teacher(_tweights(_gd_teacher(gd)), _toutput(_gd_teacher(gd)))

weights(gd::GD) = GC.@preserve gd _sweights(_gd_student(gd))
output_weights(gd::GD) = GC.@preserve gd _soutput(_gd_student(gd))

"""    loss(gd) : the loss at the current iterate (cached by runs)."""
function loss(gd::GD)
    L = Ref{Cdouble}(NaN)
    GC.@preserve gd check(ccall((:tsrelu_gd_loss, libtsrelu), Cint, (Ptr{Cvoid}, Ref{Cdouble}),
                                handle(gd), L))
    return L[]
end
loss_accurate(gd::GD) = GC.@preserve gd _loss(_gd_student(gd), _gd_teacher(gd), true)
gradient(gd::GD; output::Bool=false) = GC.@preserve gd _gradient(_gd_student(gd), _gd_teacher(gd), output)

"""    gradient_norm(gd) : |grad L|_2 at the current iterate."""
function gradient_norm(gd::GD)
    g = Ref{Cdouble}(NaN)
    GC.@preserve gd check(ccall((:tsrelu_gd_gradient_norm, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{Cdouble}), handle(gd), g))
    return g[]
end

angles(gd::GD) = GC.@preserve gd _angles(_gd_student(gd), _gd_teacher(gd))
nearest_teacher(gd::GD) = GC.@preserve gd _nearest(_gd_student(gd), _gd_teacher(gd))
components(gd::GD; tau=nothing) = GC.@preserve gd _components(_gd_student(gd), _gd_teacher(gd), tau)
deficit(gd::GD; tau=nothing) = GC.@preserve gd _deficit(_gd_student(gd), _gd_teacher(gd), tau)
balance(gd::GD; tau=nothing) = GC.@preserve gd _balance(_gd_student(gd), _gd_teacher(gd), tau)

# ---- phases

"""    phase(gd) : 1, 2 or 3 at the latest evaluated iterate."""
phase(gd::GD) = Int(GC.@preserve gd ccall((:tsrelu_gd_phase, libtsrelu), Cint, (Ptr{Cvoid},), handle(gd)))

"""    phase_times(gd) : (t1, t2), `nothing` where not reached yet."""
function phase_times(gd::GD)
    t1, t2 = Ref{Int64}(-1), Ref{Int64}(-1)
    GC.@preserve gd check(ccall((:tsrelu_gd_phase_times, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{Int64}, Ref{Int64}), handle(gd), t1, t2))
    return (t1[] < 0 ? nothing : Int(t1[]), t2[] < 0 ? nothing : Int(t2[]))
end

"""    groups(gd; initial=false) : nearest teachers at iteration 0 or now (1-based, 0 = none)."""
function groups(gd::GD; initial::Bool=false)
    tau = Vector{Cint}(undef, gd.m)
    GC.@preserve gd check(ccall((:tsrelu_gd_groups, libtsrelu), Cint,
                                (Ptr{Cvoid}, Cint, Ptr{Cint}, Csize_t),
                                handle(gd), initial ? 1 : 0, tau, length(tau)))
    return Int.(tau) .+ 1
end

"""    group_switches(gd) : students whose nearest teacher changed since iteration 0."""
group_switches(gd::GD) =
    Int(GC.@preserve gd ccall((:tsrelu_gd_group_switches, libtsrelu), Csize_t, (Ptr{Cvoid},), handle(gd)))

"""    set_phase_thresholds!(gd, eps_align, eps_deficit)"""
function set_phase_thresholds!(gd::GD, eps_align::Real, eps_deficit::Real)
    GC.@preserve gd check(ccall((:tsrelu_gd_set_phase_thresholds, libtsrelu), Cint,
                                (Ptr{Cvoid}, Cdouble, Cdouble), handle(gd), eps_align, eps_deficit))
    return gd
end

# ---- callbacks: non-closure @cfunction trampolines, the GD object as user data

const OBSERVER_C = Ref{Ptr{Cvoid}}(C_NULL)
const STEP_C = Ref{Ptr{Cvoid}}(C_NULL)

_stop_value(x::Nothing) = Cint(0)
_stop_value(x::Bool) = Cint(x)
_stop_value(x::Integer) = Cint(x)    # InexactError outside the C int range: a stop
_stop_value(x) = throw(ArgumentError("a callback returned $(repr(x)); return nothing or 0 to continue, a non-zero integer to stop"))

# f() as a callback of gd: inside gd's callback depth, its value as the C
# stop value, an exception kept in gd.pending (re-thrown after the C call)
# and turned into a stop. The observer and the event callback share it.
function _callback(f, gd::GD)::Cint
    gd.depth += 1
    try
        GC.safepoint()  # a Ctrl-C pending since the C call began is thrown here: the run stops
        return _stop_value(f())
    catch e
        gd.pending = e
        gd.pending_bt = catch_backtrace()
        return CALLBACK_RAISED
    finally
        gd.depth -= 1
    end
end

function _observer_trampoline(gdp::Ptr{Cvoid}, ud::Ptr{Cvoid})::Cint
    gd = unsafe_pointer_to_objref(ud)::GD
    return _callback(() -> gd.observer(gd), gd)
end

function _step_trampoline(gdp::Ptr{Cvoid}, W::Ptr{Cdouble}, gW::Ptr{Cdouble}, a::Ptr{Cdouble},
                          ga::Ptr{Cdouble}, ud::Ptr{Cvoid})::Cint
    gd = unsafe_pointer_to_objref(ud)::GD
    gd.depth += 1
    try
        GC.safepoint()  # as in _observer_trampoline: a pending Ctrl-C refuses the step
        # d x m column-major views of the m x d row-major C buffers; valid during the call only
        Wv = unsafe_wrap(Array, W, (gd.d, gd.m))
        gWv = unsafe_wrap(Array, gW, (gd.d, gd.m))   # read-only by contract: do not modify
        av = a == C_NULL ? nothing : unsafe_wrap(Array, a, gd.m)
        gav = ga == C_NULL ? nothing : unsafe_wrap(Array, ga, gd.m)
        return _stop_value(gd.step_rule(gd, Wv, gWv, av, gav))
    catch e
        gd.pending = e
        gd.pending_bt = catch_backtrace()
        return CALLBACK_RAISED
    finally
        gd.depth -= 1
    end
end

function _schedule(every, per_decade)
    every !== nothing && per_decade !== nothing &&
        throw(TsReluError(TSRELU_EINVAL, "give every= or per_decade=, not both"))
    every !== nothing && return (TSRELU_SCHEDULE_LINEAR, UInt64(every))
    return (TSRELU_SCHEDULE_LOG, UInt64(per_decade === nothing ? 10 : per_decade))
end

"""
    set_observer!(gd, f; every=nothing, per_decade=nothing)
    set_observer!(gd, nothing)

Install `f(gd)` for later runs: called at iterations 0, N, 2N, ... (`every=N`)
or 0 and ceil(10^(j/P)) (`per_decade=P`, the default with P = 10), and at the
final iterate. Return `nothing`/0 to continue, a non-zero integer to stop.
"""
function set_observer!(gd::GD, f; every=nothing, per_decade=nothing)
    h = _mutable(gd, "set_observer!")
    if f === nothing
        GC.@preserve gd check(ccall((:tsrelu_gd_set_observer, libtsrelu), Cint,
                                    (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Cint, UInt64),
                                    h, C_NULL, C_NULL, 0, 0))
        gd.observer = nothing
        return gd
    end
    kind, param = _schedule(every, per_decade)
    GC.@preserve gd check(ccall((:tsrelu_gd_set_observer, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Cint, UInt64),
                                h, OBSERVER_C[], pointer_from_objref(gd), kind, param))
    gd.observer = f
    gd.schedule = (kind, param)
    return gd
end

"""
    set_step!(gd, f)   set_step!(gd, nothing)

Replace W <- W - eta gW by `f(gd, W, gW, a, ga)`, which updates the d x m view
`W` (and `a` when the output weights are trained, else `nothing`) in place.
Return `nothing`/0 to accept, non-zero to refuse (the run stops).
"""
function set_step!(gd::GD, f)
    h = _mutable(gd, "set_step!")
    fp = f === nothing ? C_NULL : STEP_C[]
    ud = f === nothing ? C_NULL : pointer_from_objref(gd)
    GC.@preserve gd check(ccall((:tsrelu_gd_set_step, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}), h, fp, ud))
    gd.step_rule = f
    return gd
end

const _STATUS_SYMBOL = Dict(TSRELU_OK => :ok, TSRELU_STOPPED => :stopped,
                            TSRELU_CONVERGED => :converged, TSRELU_INTERRUPTED => :interrupted)

function _finish(gd, st::Cint, message::AbstractString)   # a GD or a Flow
    e = gd.pending
    if e !== nothing
        gd.pending = nothing
        throw(e)   # the callback's own exception; its backtrace is in gd.pending_bt
    end
    check(st, message)
    return get(_STATUS_SYMBOL, st, Symbol(status_name(st)))
end

"""
    _interruptible(c_call, interrupt) -> (status, message)

Run `c_call()` (a ccall returning a status; message = `tsrelu_last_error()`
read on the thread that made it) so that Ctrl-C stops it. Julia throws the
InterruptException of a Ctrl-C in the root task, at a safepoint of Julia
code: never inside a ccall. With `Threads.nthreads() > 1` and called from
thread 1, the call runs in a task spawned on another thread while this task
waits; on InterruptException `interrupt()` (tsrelu_gd_interrupt or
tsrelu_batch_interrupt) is repeated until the call has returned (a request
made before the run started is cleared by it), then the exception is
re-thrown. Otherwise the call runs here, and a Ctrl-C is thrown in the next
callback (the trampolines poll `GC.safepoint()`), or after the call.
"""
function _interruptible(c_call::Function, interrupt::Function)
    measured() = (st = c_call(); (st, st < 0 ? last_error() : ""))
    (Threads.nthreads() == 1 || Threads.threadid() != 1) && return measured()
    t = Threads.@spawn measured()
    caught = nothing
    while !istaskdone(t)
        try
            if caught === nothing
                wait(t)
            else
                interrupt()
                sleep(0.005)
            end
        catch e
            e isa InterruptException || istaskdone(t) || rethrow()
            e isa InterruptException && caught === nothing && (caught = e)
        end
    end
    caught === nothing || throw(caught)
    return fetch(t)
end

"""
    interrupt!(gd) : ask the run in progress on `gd` to stop before its next
    step; `run!` then returns :interrupted with the state at its last
    completed step. Thread-safe (callable from another task or thread, or
    from the run's observer); no effect when no run is in progress (each run
    clears the request when it starts). `step!` is not interruptible.
"""
function interrupt!(gd::GD)
    GC.@preserve gd check(ccall((:tsrelu_gd_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), handle(gd)))
    return gd
end

"""    step!(gd) : one update; :ok or :stopped (the step rule refused)."""
function step!(gd::GD)
    h = _mutable(gd, "step!")
    gd.pending = nothing
    st = GC.@preserve gd ccall((:tsrelu_gd_step, libtsrelu), Cint, (Ptr{Cvoid},), h)
    return _finish(gd, st, st < 0 ? last_error() : "")
end

"""
    run!(gd, steps; observer=nothing, every=nothing, per_decade=nothing)

Up to `steps` updates; returns :ok, :converged, :stopped or :interrupted
(`interrupt!`), throws TsReluError on failure and re-throws an exception
from a callback. An `observer` given here is installed for this run only.
Ctrl-C stops the run at its next step and throws InterruptException (with
`julia -t N`, N > 1; with one thread only through an observer or step rule:
see the README); the state stays valid.
"""
function run!(gd::GD, steps::Integer; observer=nothing, every=nothing, per_decade=nothing)
    h = _mutable(gd, "run!")
    steps >= 0 || throw(TsReluError(TSRELU_EINVAL, "run!: steps=$steps must be >= 0"))
    st, message = _observed_run(gd, observer, every, per_decade) do
        GC.@preserve gd _interruptible(
            () -> ccall((:tsrelu_gd_run, libtsrelu), Cint, (Ptr{Cvoid}, UInt64), h, UInt64(steps)),
            () -> ccall((:tsrelu_gd_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), h))
    end
    return _finish(gd, st, message)
end

# c_run() with `observer` installed on x (a GD or a Flow) for this call only,
# the previous observer restored afterwards; returns c_run's (status, message).
function _observed_run(c_run::Function, x, observer, every, per_decade)
    previous, previous_schedule = x.observer, x.schedule
    observer !== nothing && set_observer!(x, observer; every=every, per_decade=per_decade)
    x.pending = nothing
    try
        return c_run()
    finally
        if observer !== nothing
            if previous === nothing
                set_observer!(x, nothing)
            elseif previous_schedule[1] == TSRELU_SCHEDULE_LINEAR
                set_observer!(x, previous; every=previous_schedule[2])
            else
                set_observer!(x, previous; per_decade=previous_schedule[2])
            end
        end
    end
end

# ------------------------------------------------------------------ batches

# Fields of the per-run summary, in the order of the TSRELU_SUMMARY_* indices.
const SUMMARY_FIELDS = (:status, :iteration, :loss, :grad_norm, :t1, :t2, :phase, :switches,
                        :slope, :ratio_min, :ratio_max, :seconds)

"""
    Batch(; threads=nothing)

Independent GD runs executed by `run!(b)` on a thread pool, each
bit-identical to running its state alone. Runs are numbered 1, 2, ... here
(0, 1, ... in C). Julia callbacks installed on `state(b, i)` are called
from the batch's worker threads: that needs Julia >= 1.9 (foreign threads).
"""
mutable struct Batch
    ptr::Ptr{Cvoid}
    states::Dict{Int,GD}
    function Batch(p::Ptr{Cvoid})
        b = new(p, Dict{Int,GD}())
        finalizer(close, b)
        return b
    end
end

function Batch(; threads=nothing)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    check(ccall((:tsrelu_batch_create, libtsrelu), Cint, (Ref{Ptr{Cvoid}},), out))
    b = Batch(out[])
    threads === nothing || set_threads!(b, threads)
    return b
end

function Base.close(b::Batch)
    if b.ptr != C_NULL
        ccall((:tsrelu_batch_free, libtsrelu), Cvoid, (Ptr{Cvoid},), b.ptr)
        b.ptr = C_NULL
    end
    for gd in values(b.states)
        gd.ptr = C_NULL
    end
    return nothing
end

"""    set_threads!(b, n) : n >= 1 threads, or 0 for all online CPUs."""
function set_threads!(b::Batch, n::Integer)
    GC.@preserve b check(ccall((:tsrelu_batch_set_threads, libtsrelu), Cint, (Ptr{Cvoid}, Cuint),
                               handle(b), n))
    return b
end

"""    add!(b, t, s, eta, steps) -> index (1-based) of the new run."""
function add!(b::Batch, t::Teacher, s::Student, eta::Real, steps::Integer)
    index = Ref{Csize_t}(0)
    GC.@preserve b t s check(ccall((:tsrelu_batch_add, libtsrelu), Cint,
                                   (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Cdouble, UInt64, Ref{Csize_t}),
                                   handle(b), handle(t), handle(s), eta, UInt64(steps), index))
    return Int(index[]) + 1
end

Base.length(b::Batch) =
    Int(GC.@preserve b ccall((:tsrelu_batch_size, libtsrelu), Csize_t, (Ptr{Cvoid},), handle(b)))

"""    state(b, i) : the GD state of run i (owned by the batch; the same object each time)."""
function state(b::Batch, i::Integer)
    haskey(b.states, i) && return b.states[i]
    p = GC.@preserve b ccall((:tsrelu_batch_state, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid}, Csize_t),
                             handle(b), i - 1)
    p == C_NULL && throw(TsReluError(TSRELU_EINVAL, "state: run $i of $(length(b)) does not exist"))
    sp = ccall((:tsrelu_gd_student, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), p)
    tp = ccall((:tsrelu_gd_teacher, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), p)
    gd = GD(p, _swidth(sp), _sdim(sp), _twidth(tp); owner=b)
    b.states[i] = gd
    return gd
end

"""
    run!(b::Batch) -> :ok, :converged, :stopped or :interrupted

Run every run once; throws TsReluError on an error and re-throws an
exception from a callback (first by run index) after all runs finished.
`interrupt!(b)` stops the runs at their next step (runs not started are not
started; their summaries have status TSRELU_INTERRUPTED); Ctrl-C does the
same and throws InterruptException (with `julia -t N`, N > 1).
"""
function run!(b::Batch)
    for gd in values(b.states)
        gd.pending = nothing
    end
    h = handle(b)
    st, message = GC.@preserve b _interruptible(
        () -> ccall((:tsrelu_batch_run, libtsrelu), Cint, (Ptr{Cvoid},), h),
        () -> ccall((:tsrelu_batch_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), h))
    for i in sort!(collect(keys(b.states)))
        e = b.states[i].pending
        if e !== nothing
            foreach(gd -> gd.pending = nothing, values(b.states))
            throw(e)
        end
    end
    check(st, message)
    return get(_STATUS_SYMBOL, st, Symbol(status_name(st)))
end

"""    interrupt!(b::Batch) : ask a running `run!(b)` to stop (see `run!(b::Batch)`)."""
function interrupt!(b::Batch)
    GC.@preserve b check(ccall((:tsrelu_batch_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), handle(b)))
    return b
end

"""    progress(b::Batch) : (done, total) steps over all runs, safe to call from
    another task or thread while `run!(b)` runs (tsrelu_batch_progress)."""
function progress(b::Batch)
    done = Ref{UInt64}(0)
    total = Ref{UInt64}(0)
    GC.@preserve b check(ccall((:tsrelu_batch_progress, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ref{UInt64}, Ref{UInt64}), handle(b), done, total))
    return (Int(done[]), Int(total[]))
end

"""    summary(b::Batch, i) : NamedTuple of SUMMARY_FIELDS for run i after run!(b)."""
function Base.summary(b::Batch, i::Integer)
    n = Int(ccall((:tsrelu_summary_len, libtsrelu), Csize_t, ()))
    raw = Vector{Float64}(undef, n)
    GC.@preserve b check(ccall((:tsrelu_batch_summary, libtsrelu), Cint,
                               (Ptr{Cvoid}, Csize_t, Ptr{Cdouble}, Csize_t), handle(b), i - 1, raw, n))
    return NamedTuple{SUMMARY_FIELDS}(Tuple(raw[1:length(SUMMARY_FIELDS)]))
end

# ---- trajectory recorder (1.1)

# Flags and fields of the recorder (tsrelu.h).
const TSRELU_RECORD_ACCURATE_LOSS = 1
const TSRELU_RECORD_LOSS = Cint(1)
const TSRELU_RECORD_GRAD_NORM = Cint(2)
const TSRELU_RECORD_LOSS_ACCURATE = Cint(3)
const TSRELU_RECORD_TIME = Cint(4)
const TSRELU_RECORD_NORM = Cint(10)
const TSRELU_RECORD_OUTPUT_WEIGHT = Cint(11)
const TSRELU_RECORD_NEAREST = Cint(12)
const TSRELU_RECORD_ANGLE = Cint(13)
const TSRELU_RECORD_RADIAL = Cint(14)
const TSRELU_RECORD_TANGENTIAL = Cint(15)
const TSRELU_RECORD_ANGLE_MEAN = Cint(16)
const TSRELU_RECORD_DEFICIT = Cint(20)
const TSRELU_RECORD_GROUP_SIZE = Cint(21)

const _RECORD_GLOBAL = Dict(:loss => TSRELU_RECORD_LOSS, :grad_norm => TSRELU_RECORD_GRAD_NORM, :time => TSRELU_RECORD_TIME,
                            :loss_accurate => TSRELU_RECORD_LOSS_ACCURATE)
const _RECORD_STUDENT = Dict(:norm => TSRELU_RECORD_NORM, :output_weight => TSRELU_RECORD_OUTPUT_WEIGHT,
                             :nearest => TSRELU_RECORD_NEAREST, :angle => TSRELU_RECORD_ANGLE,
                             :radial => TSRELU_RECORD_RADIAL, :tangential => TSRELU_RECORD_TANGENTIAL,
                             :angle_mean => TSRELU_RECORD_ANGLE_MEAN)
const _RECORD_TEACHER = Dict(:deficit => TSRELU_RECORD_DEFICIT, :group_size => TSRELU_RECORD_GROUP_SIZE)

"""
    Record(gd, capacity; accurate_loss=false)

A trajectory recorder for states shaped like `gd`, with room for `capacity`
recorded iterates (allocated now). Attach it with `set_recorder!`; read it
with `iterations`, `record_global`, `record_student` (m x n matrices, column
n = recorded iterate n), `record_teacher` (k x n), `write_csv`. `missed(r)`
counts the iterates due after it was full.
"""
mutable struct Record
    ptr::Ptr{Cvoid}
    m::Int
    k::Int
    gd::Any           # the GD attached to, kept alive while attached
    on_event::Any     # the on-line event function (on_event!), or nothing
    function Record(p::Ptr{Cvoid}, m::Integer, k::Integer)
        r = new(p, m, k, nothing, nothing)
        finalizer(close, r)
        return r
    end
end

function Record(gd::GD, capacity::Integer; accurate_loss::Bool=false)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    flags = accurate_loss ? Cuint(TSRELU_RECORD_ACCURATE_LOSS) : Cuint(0)
    GC.@preserve gd check(ccall((:tsrelu_record_create, libtsrelu), Cint,
                                (Ptr{Cvoid}, Csize_t, Cuint, Ref{Ptr{Cvoid}}),
                                handle(gd), capacity, flags, out))
    return Record(out[], gd.m, gd.k)
end

function handle(r::Record)
    r.ptr == C_NULL && throw(TsReluError(TSRELU_EINVAL, "this Record is closed"))
    return r.ptr
end

function Base.close(r::Record)
    if r.ptr != C_NULL
        ccall((:tsrelu_record_free, libtsrelu), Cvoid, (Ptr{Cvoid},), r.ptr)
        r.ptr = C_NULL
    end
    r.gd = nothing
    return nothing
end

"""
    set_recorder!(gd, r; every=nothing, per_decade=nothing)
    set_recorder!(gd, nothing)

Attach `r` to `gd` (schedule as `set_observer!`, default 10 per decade), or
detach the attached recorder.
"""
function set_recorder!(gd::GD, r; every=nothing, per_decade=nothing)
    h = _mutable(gd, "set_recorder!")
    kind, param = r === nothing ? (Cint(0), UInt64(0)) : _schedule(every, per_decade)
    rp = r === nothing ? C_NULL : handle(r)
    GC.@preserve gd r check(ccall((:tsrelu_gd_set_recorder, libtsrelu), Cint,
                                  (Ptr{Cvoid}, Ptr{Cvoid}, Cint, UInt64), h, rp, kind, param))
    r === nothing || (r.gd = gd)
    return gd
end

Base.length(r::Record) =
    Int(GC.@preserve r ccall((:tsrelu_record_size, libtsrelu), Csize_t, (Ptr{Cvoid},), handle(r)))
capacity(r::Record) =
    Int(GC.@preserve r ccall((:tsrelu_record_capacity, libtsrelu), Csize_t, (Ptr{Cvoid},), handle(r)))
missed(r::Record) =
    Int(GC.@preserve r ccall((:tsrelu_record_missed, libtsrelu), UInt64, (Ptr{Cvoid},), handle(r)))

"""    iterations(r) : the iteration of every recorded iterate."""
function iterations(r::Record)
    out = Vector{UInt64}(undef, length(r))
    GC.@preserve r check(ccall((:tsrelu_record_iterations, libtsrelu), Cint,
                               (Ptr{Cvoid}, Ptr{UInt64}, Csize_t), handle(r), out, length(out)))
    return out
end

function _field(table, field::Symbol)
    haskey(table, field) || throw(TsReluError(TSRELU_EINVAL, "unknown field :$field; one of $(keys(table))"))
    return table[field]
end

"""    record_global(r, field) : :loss, :grad_norm or :loss_accurate per recorded iterate."""
function record_global(r::Record, field::Symbol)
    out = Vector{Float64}(undef, length(r))
    GC.@preserve r check(ccall((:tsrelu_record_global, libtsrelu), Cint,
                               (Ptr{Cvoid}, Cint, Ptr{Cdouble}, Csize_t),
                               handle(r), _field(_RECORD_GLOBAL, field), out, length(out)))
    return out
end

"""
    record_student(r, field) : m x n matrix of :norm, :output_weight, :nearest
    (1-based, 0 = none), :angle, :radial, :tangential or :angle_mean.
"""
function record_student(r::Record, field::Symbol)
    out = Matrix{Float64}(undef, r.m, length(r))
    GC.@preserve r check(ccall((:tsrelu_record_student, libtsrelu), Cint,
                               (Ptr{Cvoid}, Cint, Ptr{Cdouble}, Csize_t),
                               handle(r), _field(_RECORD_STUDENT, field), out, length(out)))
    return field === :nearest ? out .+ 1 : out
end

"""    record_teacher(r, field) : k x n matrix of :deficit or :group_size."""
function record_teacher(r::Record, field::Symbol)
    out = Matrix{Float64}(undef, r.k, length(r))
    GC.@preserve r check(ccall((:tsrelu_record_teacher, libtsrelu), Cint,
                               (Ptr{Cvoid}, Cint, Ptr{Cdouble}, Csize_t),
                               handle(r), _field(_RECORD_TEACHER, field), out, length(out)))
    return out
end

"""    write_csv(r, path) : the tidy table of tsrelu_record_write_csv (0-based indices)."""
function write_csv(r::Record, path::AbstractString)
    GC.@preserve r check(ccall((:tsrelu_record_write_csv, libtsrelu), Cint, (Ptr{Cvoid}, Cstring),
                               handle(r), path))
    return path
end

# ---- events (1.2): docs/events.md

const TSRELU_EVENT_GROUP = Cint(1)
const TSRELU_EVENT_ALIGN = Cint(2)
const TSRELU_EVENT_MEAN = Cint(3)
const TSRELU_EVENT_DEFICIT = Cint(4)
const TSRELU_EVENT_NORM = Cint(5)
const TSRELU_EVENT_NORM_SHARE = Cint(6)
const TSRELU_EVENT_FIRST = Cint(1)
const TSRELU_EVENT_SETTLE = Cint(2)
const TSRELU_EVENT_LEAVE = Cint(3)
const TSRELU_EVENT_ENTERED = Cint(1)
const TSRELU_EVENT_LEFT = Cint(2)

const _EVENT_KINDS = Dict(:group => TSRELU_EVENT_GROUP, :align => TSRELU_EVENT_ALIGN,
                          :mean => TSRELU_EVENT_MEAN, :deficit => TSRELU_EVENT_DEFICIT,
                          :norm => TSRELU_EVENT_NORM, :norm_share => TSRELU_EVENT_NORM_SHARE)
const _EVENT_NAMES = Dict(v => k for (k, v) in _EVENT_KINDS)
const _EVENT_MODES = Dict(:first => TSRELU_EVENT_FIRST, :settle => TSRELU_EVENT_SETTLE,
                          :leave => TSRELU_EVENT_LEAVE)
const _ONLINE_KINDS = (:group, :align, :mean, :deficit)

"""
    event_times(r, kind, threshold=nothing; mode=:first)

Per student (per teacher for `:deficit`) the iteration of event `kind`
(`:group`, `:align`, `:mean`, `:deficit`, `:norm`, `:norm_share`) in `mode`
(`:first` row in the set, `:settle` enters for good, `:leave` leaves for
good), with `threshold` (radians for `:align`, `:mean`; eps of
|H_l| <= eps |b_l||v_l| for `:deficit`; the fraction q for the norms;
unused for `:group`); NaN = never (tsrelu_record_event_times).
"""
function event_times(r::Record, kind::Symbol, threshold=nothing; mode::Symbol=:first)
    k = _field(_EVENT_KINDS, kind)
    md = _field(_EVENT_MODES, mode)
    threshold === nothing && kind !== :group &&
        throw(TsReluError(TSRELU_EINVAL, "event_times: the :$kind event needs a threshold"))
    out = Vector{Float64}(undef, kind === :deficit ? r.k : r.m)
    GC.@preserve r check(ccall((:tsrelu_record_event_times, libtsrelu), Cint,
                               (Ptr{Cvoid}, Cint, Cint, Cdouble, Ptr{Cdouble}, Csize_t),
                               handle(r), k, md, threshold === nothing ? 0.0 : Float64(threshold),
                               out, length(out)))
    return out
end

"""
    switches(r)

The group switches as a named tuple of vectors (time, student, from, to):
students 1-based, teachers 1-based with 0 for none (tsrelu_record_switches).
"""
function switches(r::Record)
    n = Ref{Csize_t}(0)
    GC.@preserve r check(ccall((:tsrelu_record_switches, libtsrelu), Cint,
                               (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t, Ref{Csize_t}),
                               handle(r), C_NULL, 0, n))
    raw = Matrix{Float64}(undef, 4, n[])
    if n[] > 0
        GC.@preserve r raw check(ccall((:tsrelu_record_switches, libtsrelu), Cint,
                                       (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t, Ref{Csize_t}),
                                       handle(r), raw, length(raw), n))
    end
    return (time=raw[1, :], student=Int.(raw[2, :]) .+ 1, from=Int.(raw[3, :]) .+ 1,
            to=Int.(raw[4, :]) .+ 1)
end

"""
    rate_onset(r; delta=0.1) -> (onset, slope)

The slope of log L on log T fitted over the last decade of rows, and the
first T after which the slope between consecutive rows stays within delta
of it (tsrelu_record_rate_onset); NaN when undefined or never.
"""
function rate_onset(r::Record; delta::Real=0.1)
    onset, slope = Ref{Cdouble}(NaN), Ref{Cdouble}(NaN)
    GC.@preserve r check(ccall((:tsrelu_record_rate_onset, libtsrelu), Cint,
                               (Ptr{Cvoid}, Cdouble, Ref{Cdouble}, Ref{Cdouble}),
                               handle(r), delta, onset, slope))
    return (onset[], slope[])
end

"""
    event_quantile(times, p)

The p-quantile of event times, NaN = never counted as later than every
time: element floor(p (n-1)) + 1 of the sorted times (tsrelu_event_quantile).
"""
function event_quantile(times::AbstractVector{<:Real}, p::Real)
    t = Vector{Float64}(times)
    out = Ref{Cdouble}(NaN)
    GC.@preserve t check(ccall((:tsrelu_event_quantile, libtsrelu), Cint,
                               (Ptr{Cdouble}, Csize_t, Cdouble, Ref{Cdouble}),
                               isempty(t) ? Ptr{Cdouble}(C_NULL) : pointer(t), length(t), p, out))
    return out[]
end

const EVENT_C = Ref{Ptr{Cvoid}}(C_NULL)

function _event_trampoline(gdp::Ptr{Cvoid}, kind::Cint, transition::Cint, index::Csize_t, teacher::Cint,
                           time::Cdouble, ud::Ptr{Cvoid})::Cint
    r = unsafe_pointer_to_objref(ud)::Record
    gd = r.gd::GD
    tr = transition == TSRELU_EVENT_ENTERED ? :entered : :left
    return _callback(() -> r.on_event(gd, _EVENT_NAMES[kind], tr, Int(index) + 1, Int(teacher) + 1, time), gd)
end

"""
    on_event!(r, f; kinds=(:group, :align, :mean, :deficit), align=nothing, mean=nothing, deficit=nothing)
    on_event!(r, nothing)

Call `f(gd, kind, transition, index, teacher, time)` for every on-line
transition as each row is recorded: `transition` is `:entered` or `:left`,
`index` the student (the teacher for `:deficit`, 1-based), `teacher` the
set's teacher (1-based; 0 for `:mean`); return nothing/0 to continue,
non-zero to stop the run (stop_reason `:event`). Thresholds given here are
set for their kinds (0.05 until set). The record must stay attached to the
GD it runs with. (tsrelu_record_set_event_callback)
"""
function on_event!(r::Record, f; kinds=_ONLINE_KINDS, align=nothing, mean=nothing, deficit=nothing)
    for (kind, v) in ((:align, align), (:mean, mean), (:deficit, deficit))
        v === nothing && continue
        GC.@preserve r check(ccall((:tsrelu_record_set_event_threshold, libtsrelu), Cint,
                                   (Ptr{Cvoid}, Cint, Cdouble), handle(r), _EVENT_KINDS[kind], v))
    end
    if f === nothing
        GC.@preserve r check(ccall((:tsrelu_record_set_event_callback, libtsrelu), Cint,
                                   (Ptr{Cvoid}, Cuint, Ptr{Cvoid}, Ptr{Cvoid}), handle(r), 0, C_NULL, C_NULL))
        r.on_event = nothing
        return r
    end
    mask = Cuint(0)
    for kind in kinds
        kind in _ONLINE_KINDS ||
            throw(TsReluError(TSRELU_EINVAL, "on_event!: :$kind is not an on-line kind $(_ONLINE_KINDS)"))
        mask |= Cuint(1) << _EVENT_KINDS[kind]
    end
    r.on_event = f
    GC.@preserve r check(ccall((:tsrelu_record_set_event_callback, libtsrelu), Cint,
                               (Ptr{Cvoid}, Cuint, Ptr{Cvoid}, Ptr{Cvoid}),
                               handle(r), mask, EVENT_C[], pointer_from_objref(r)))
    return r
end

# ------------------------------------------------------------------ gradient flow (1.2)

const TSRELU_FLOW_TRAIN_OUTPUT = Cuint(1)
const TSRELU_FLOW_DENSE = Cuint(2)
const TSRELU_FLOW_KRYLOV = Cuint(4)
const TSRELU_FLOW_DQ_JACOBIAN = Cuint(8)
const TSRELU_FLOW_ACCURATE = Cuint(16)
const TSRELU_FLOW_NSTATS = 8
const FLOW_STATISTICS = (:steps, :rhs, :lin_rhs, :jacobians, :jtimes, :lin_iters, :err_fails, :conv_fails)
const FLOW_OBSERVER_C = Ref{Ptr{Cvoid}}(C_NULL)

"""
    Flow(t, s; rtol=1e-8, atol=1e-14, train_output=false, solver=:auto, accurate=false, dq_jacobian=false)

The gradient flow dW/dt = -grad L from student `s` at time 0 for teacher `t`
(both copied), integrated by SUNDIALS CVODE to tolerances rtol, atol
(docs/flow.md). GD at step eta is its Euler scheme: iteration T is time
eta*T. `run!(fl, t_end; observer=f, per_decade=P)` as for GD, over time.
`solver`: :auto, :dense or :krylov; `accurate=true`: the gradient in quad
precision (past t ~ 1e8, with rtol ~ 1e-12); `dq_jacobian=true`: difference
quotients instead of the closed-form Hessian.
"""
mutable struct Flow
    ptr::Ptr{Cvoid}
    m::Int
    d::Int
    k::Int
    observer::Any
    schedule::Tuple{Cint,UInt64}
    pending::Any
    pending_bt::Any
    depth::Int
    recorder::Any
    function Flow(p::Ptr{Cvoid}, m::Integer, d::Integer, k::Integer)
        fl = new(p, m, d, k, nothing, (Cint(0), UInt64(0)), nothing, nothing, 0, nothing)
        finalizer(close, fl)
        return fl
    end
end

function handle(fl::Flow)
    fl.ptr == C_NULL && throw(TsReluError(TSRELU_EINVAL, "this Flow is closed"))
    return fl.ptr
end

function _mutable(fl::Flow, what::AbstractString)
    fl.depth > 0 && throw(TsReluError(TSRELU_EBUSY, "$what is not allowed inside a callback of the same Flow"))
    return handle(fl)
end

function _flow_flags(train_output::Bool, solver::Symbol)
    kinds = Dict(:auto => Cuint(0), :dense => TSRELU_FLOW_DENSE, :krylov => TSRELU_FLOW_KRYLOV)
    haskey(kinds, solver) || throw(TsReluError(TSRELU_EINVAL, "solver=:$solver; one of :auto, :dense, :krylov"))
    return (train_output ? TSRELU_FLOW_TRAIN_OUTPUT : Cuint(0)) | kinds[solver]
end

function Flow(t::Teacher, s::Student; rtol::Real=1e-8, atol::Real=1e-14, train_output::Bool=false,
              solver::Symbol=:auto, accurate::Bool=false, dq_jacobian::Bool=false)
    flags = _flow_flags(train_output, solver) | (accurate ? TSRELU_FLOW_ACCURATE : Cuint(0)) |
            (dq_jacobian ? TSRELU_FLOW_DQ_JACOBIAN : Cuint(0))
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve t s check(ccall((:tsrelu_flow_create, libtsrelu), Cint,
                                 (Ptr{Cvoid}, Ptr{Cvoid}, Cdouble, Cdouble, Ref{Ptr{Cvoid}}),
                                 handle(t), handle(s), rtol, atol, out))
    fl = Flow(out[], width(s), dim(s), width(t))
    flags == 0 || set_flow_flags!(fl, flags)
    return fl
end

function Base.close(fl::Flow)
    fl.depth > 0 && throw(TsReluError(TSRELU_EBUSY, "close(::Flow) inside a callback of the same Flow"))
    if fl.ptr != C_NULL
        ccall((:tsrelu_flow_free, libtsrelu), Cvoid, (Ptr{Cvoid},), fl.ptr)
        fl.ptr = C_NULL
    end
    fl.observer = nothing
    return nothing
end

Base.show(io::IO, fl::Flow) =
    fl.ptr == C_NULL ? print(io, "TsRelu.Flow(closed)") :
    print(io, "TsRelu.Flow(m=$(fl.m), k=$(fl.k), d=$(fl.d), t=$(time(fl)))")

"""    set_flow_flags!(fl, flags) : TSRELU_FLOW_TRAIN_OUTPUT | at most one solver flag."""
function set_flow_flags!(fl::Flow, flags::Integer)
    h = _mutable(fl, "set_flow_flags!")
    GC.@preserve fl check(ccall((:tsrelu_flow_set_flags, libtsrelu), Cint, (Ptr{Cvoid}, Cuint), h, Cuint(flags)))
    return fl
end
flow_flags(fl::Flow) = Int(GC.@preserve fl ccall((:tsrelu_flow_flags, libtsrelu), Cuint, (Ptr{Cvoid},), handle(fl)))
train_output(fl::Flow) = (flow_flags(fl) & TSRELU_FLOW_TRAIN_OUTPUT) != 0
set_train_output!(fl::Flow, on::Bool) =
    set_flow_flags!(fl, (flow_flags(fl) & ~Int(TSRELU_FLOW_TRAIN_OUTPUT)) | (on ? Int(TSRELU_FLOW_TRAIN_OUTPUT) : 0))
"""    solver(fl) : :dense or :krylov, the linear solver in use."""
solver(fl::Flow) =
    GC.@preserve(fl, ccall((:tsrelu_flow_solver, libtsrelu), Cint, (Ptr{Cvoid},), handle(fl))) ==
    Cint(TSRELU_FLOW_DENSE) ? :dense : :krylov

function set_accuracy!(fl::Flow, rtol::Real, atol::Real)
    h = _mutable(fl, "set_accuracy!")
    GC.@preserve fl check(ccall((:tsrelu_flow_set_accuracy, libtsrelu), Cint, (Ptr{Cvoid}, Cdouble, Cdouble),
                                h, rtol, atol))
    return fl
end
function accuracy(fl::Flow)
    r, a = Ref{Cdouble}(0), Ref{Cdouble}(0)
    GC.@preserve fl check(ccall((:tsrelu_flow_accuracy, libtsrelu), Cint, (Ptr{Cvoid}, Ref{Cdouble}, Ref{Cdouble}),
                                handle(fl), r, a))
    return (r[], a[])
end
function set_tolerances!(fl::Flow; loss_tol::Real=0.0, grad_tol::Real=0.0)
    h = _mutable(fl, "set_tolerances!")
    GC.@preserve fl check(ccall((:tsrelu_flow_set_tolerances, libtsrelu), Cint, (Ptr{Cvoid}, Cdouble, Cdouble),
                                h, loss_tol, grad_tol))
    return fl
end
function tolerances(fl::Flow)
    l, g = Ref{Cdouble}(0), Ref{Cdouble}(0)
    GC.@preserve fl check(ccall((:tsrelu_flow_tolerances, libtsrelu), Cint, (Ptr{Cvoid}, Ref{Cdouble}, Ref{Cdouble}),
                                handle(fl), l, g))
    return (loss_tol=l[], grad_tol=g[])
end

"""    time(fl::Flow) : the flow time of the state (a method of Base.time)."""
Base.time(fl::Flow) = GC.@preserve fl ccall((:tsrelu_flow_time, libtsrelu), Cdouble, (Ptr{Cvoid},), handle(fl))
stop_value(fl::Flow) = Int(GC.@preserve fl ccall((:tsrelu_flow_stop_value, libtsrelu), Cint, (Ptr{Cvoid},), handle(fl)))
stop_reason(fl::Flow) = Int(GC.@preserve fl ccall((:tsrelu_flow_stop_reason, libtsrelu), Cint, (Ptr{Cvoid},), handle(fl)))
_fl_student(fl::Flow) = ccall((:tsrelu_flow_student, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), handle(fl))
_fl_teacher(fl::Flow) = ccall((:tsrelu_flow_teacher, libtsrelu), Ptr{Cvoid}, (Ptr{Cvoid},), handle(fl))
function student(fl::Flow)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    GC.@preserve fl check(ccall((:tsrelu_student_copy, libtsrelu), Cint, (Ptr{Cvoid}, Ref{Ptr{Cvoid}}),
                                _fl_student(fl), out))
    return Student(out[])
end
teacher(fl::Flow) = GC.@preserve fl Teacher(_tweights(_fl_teacher(fl)), _toutput(_fl_teacher(fl)))
weights(fl::Flow) = GC.@preserve fl _sweights(_fl_student(fl))
output_weights(fl::Flow) = GC.@preserve fl _soutput(_fl_student(fl))
function loss(fl::Flow)
    L = Ref{Cdouble}(0)
    GC.@preserve fl check(ccall((:tsrelu_flow_loss, libtsrelu), Cint, (Ptr{Cvoid}, Ref{Cdouble}), handle(fl), L))
    return L[]
end
loss_accurate(fl::Flow) = GC.@preserve fl _loss(_fl_student(fl), _fl_teacher(fl), true)
function gradient_norm(fl::Flow)
    g = Ref{Cdouble}(0)
    GC.@preserve fl check(ccall((:tsrelu_flow_gradient_norm, libtsrelu), Cint, (Ptr{Cvoid}, Ref{Cdouble}),
                                handle(fl), g))
    return g[]
end

"""    statistics(fl) : the integrator's counters since creation, a NamedTuple."""
function statistics(fl::Flow)
    c = zeros(UInt64, TSRELU_FLOW_NSTATS)
    GC.@preserve fl c check(ccall((:tsrelu_flow_statistics, libtsrelu), Cint, (Ptr{Cvoid}, Ptr{UInt64}, Csize_t),
                                  handle(fl), c, length(c)))
    return NamedTuple{FLOW_STATISTICS}(Tuple(Int.(c)))
end

function _flow_observer_trampoline(flp::Ptr{Cvoid}, ud::Ptr{Cvoid})::Cint
    fl = unsafe_pointer_to_objref(ud)::Flow
    fl.depth += 1
    try
        GC.safepoint()
        return _stop_value(fl.observer(fl))
    catch e
        fl.pending = e
        fl.pending_bt = catch_backtrace()
        return CALLBACK_RAISED
    finally
        fl.depth -= 1
    end
end

"""
    set_observer!(fl::Flow, f; every=nothing, per_decade=nothing)

`f(fl)` at times 0, N, 2N, ... (`every=N`) or 0 and 10^(j/P) (`per_decade=P`,
default 10), and at the end of each run.
"""
function set_observer!(fl::Flow, f; every=nothing, per_decade=nothing)
    h = _mutable(fl, "set_observer!")
    if f === nothing
        GC.@preserve fl check(ccall((:tsrelu_flow_set_observer, libtsrelu), Cint,
                                    (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Cint, UInt64), h, C_NULL, C_NULL, 0, 0))
        fl.observer = nothing
        return fl
    end
    kind, param = _schedule(every, per_decade)
    GC.@preserve fl check(ccall((:tsrelu_flow_set_observer, libtsrelu), Cint,
                                (Ptr{Cvoid}, Ptr{Cvoid}, Ptr{Cvoid}, Cint, UInt64),
                                h, FLOW_OBSERVER_C[], pointer_from_objref(fl), kind, param))
    fl.observer = f
    fl.schedule = (kind, param)
    return fl
end

"""    interrupt!(fl::Flow) : stop the run in progress after its current step."""
function interrupt!(fl::Flow)
    GC.@preserve fl check(ccall((:tsrelu_flow_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), handle(fl)))
    return fl
end

"""
    run!(fl::Flow, t_end; observer=nothing, every=nothing, per_decade=nothing)

Integrate to time `t_end`; returns :ok, :converged, :stopped or :interrupted
and throws TsReluError on failure (as `run!(::GD, ...)`).
"""
function run!(fl::Flow, t_end::Real; observer=nothing, every=nothing, per_decade=nothing)
    h = _mutable(fl, "run!")
    st, message = _observed_run(fl, observer, every, per_decade) do
        GC.@preserve fl _interruptible(
            () -> ccall((:tsrelu_flow_run, libtsrelu), Cint, (Ptr{Cvoid}, Cdouble), h, Float64(t_end)),
            () -> ccall((:tsrelu_flow_interrupt, libtsrelu), Cint, (Ptr{Cvoid},), h))
    end
    return _finish(fl, st, message)
end

"""    Record(fl::Flow, capacity; accurate_loss=false) : a recorder shaped like `fl`."""
function Record(fl::Flow, capacity::Integer; accurate_loss::Bool=false)
    out = Ref{Ptr{Cvoid}}(C_NULL)
    flags = accurate_loss ? Cuint(TSRELU_RECORD_ACCURATE_LOSS) : Cuint(0)
    GC.@preserve fl check(ccall((:tsrelu_record_create_flow, libtsrelu), Cint,
                                (Ptr{Cvoid}, Csize_t, Cuint, Ref{Ptr{Cvoid}}), handle(fl), capacity, flags, out))
    return Record(out[], fl.m, fl.k)
end

"""    set_recorder!(fl::Flow, r; every=nothing, per_decade=nothing) : attach `r` (nothing detaches)."""
function set_recorder!(fl::Flow, r; every=nothing, per_decade=nothing)
    h = _mutable(fl, "set_recorder!")
    kind, param = r === nothing ? (Cint(0), UInt64(0)) : _schedule(every, per_decade)
    rp = r === nothing ? C_NULL : handle(r)
    GC.@preserve fl r check(ccall((:tsrelu_flow_set_recorder, libtsrelu), Cint,
                                  (Ptr{Cvoid}, Ptr{Cvoid}, Cint, UInt64), h, rp, kind, param))
    r === nothing || (r.gd = fl)
    fl.recorder = r
    return fl
end

"""    record_time(r) : the time of every recorded row (eta * iteration for GD)."""
record_time(r::Record) = record_global(r, :time)

end # module
