# second_order.jl — the Hessian, its spectrum and Newton's method from Julia:
# the Julia version of examples/second_order.py (docs/secondorder.md).
#
# NOT RUN: no Julia exists on this project's machines, so this script has
# never been executed. What is checked (tests/integration/test_julia_ccall.py,
# in `make check`): every TsRelu name it calls is exported by the module and
# every keyword argument it passes is declared by a method of that name. The
# values in the comments are those printed by the Python example, which
# makes the same library calls with the same seeds.
# Please report anything that fails when you run it.
#
# Run from the repository root after `make all`:
#   julia bindings/julia/examples/second_order.jl           k=2, m=20, d=16, 1e5 GD steps
#   julia bindings/julia/examples/second_order.jl --quick   k=2, m=6, d=8, 2e4 GD steps
# Exit status 1 if a check fails (the same checks as the Python example).
#
# Layout: weights(s) is d x m (column i is student w_i), whose memory is the
# C library's row-major m x d array, so the Hessian's variable order vec(W)
# is Julia's vec(weights(s)).

include(joinpath(@__DIR__, "..", "src", "TsRelu.jl"))
using .TsRelu
using LinearAlgebra   # H * x, transpose
using Printf

const FAILURES = String[]

function check(ok::Bool, what::AbstractString)
    println("  [", ok ? "ok" : "FAIL", "] ", what)
    ok || push!(FAILURES, what)
    return ok
end

# Part 1: Hessian, H x against hessian_vector and the spectrum at a late GD iterate.
function late_state(quick::Bool)
    k, m, d, sigma, steps = quick ? (2, 6, 8, 1e-3, 20000) : (2, 20, 16, 1e-6, 100000)
    t = Teacher(:orthogonal, k, d; norm=1.0, seed=1)
    gd = GD(t, Student(:gaussian, m, d; sigma=sigma, seed=2), 0.1)
    run!(gd, steps)
    s = student(gd)                                   # a copy of the iterate
    theta = maximum(minimum(angles(s, t); dims=1))     # angles: k x m
    @printf("Part 1: k=%d, m=%d, d=%d, sigma=%g; GD eta=0.1, %d steps: L = %.3e, largest angle %.2e\n",
            k, m, d, sigma, iteration(gd), loss_accurate(s, t), theta)

    H = hessian(s, t)                                 # N x N, N = m d
    N = m * d
    check(size(H) == (N, N) && H == transpose(H), "dense Hessian $N x $N, exactly symmetric")

    x = [sin(0.7 * j + 0.3) for j in 1:N]             # any direction (a d x m array works too)
    Hx = H * x
    y = hessian_vector(s, t, x)
    rel = maximum(abs.(y .- Hx)) / maximum(abs.(Hx))
    check(rel <= 1e-12, @sprintf("hessian_vector = H * x: max|diff| / max|H x| = %.1e (bound 1e-12)", rel))

    # flat: |lambda| <= rel_tol * max|lambda|; 1e-2 lies in the gap between
    # the soft eigenvalues (of order the angles) and the stiff ones
    rel_tol = 1e-2
    sp = spectrum(s, t; rel_tol=rel_tol)
    ev = sp.values                                    # ascending
    a = sort(abs.(ev))
    soft, stiff = a[N - k * d], a[N - k * d + 1]
    @printf("  spectrum: min %.2e, max %.4f; largest soft |lambda| %.2e, smallest stiff %.4f (gap x%.0f)\n",
            ev[1], ev[end], soft, stiff, stiff / soft)
    @printf("  counts at rel_tol %g: %d negative, %d flat, %d positive; at a global minimum: 0, %d, %d\n",
            rel_tol, sp.negative, sp.flat, sp.positive, N - k * d, k * d)
    check((sp.negative, sp.flat, sp.positive) == (0, N - k * d, k * d),
          "counts (negative, flat, positive) = (0, m*d - k*d, k*d)")
    check(ev[1] >= -1e-14 * ev[end],
          @sprintf("no eigenvalue below -1e-14 max|lambda| (smallest %.1e)", ev[1]))
    return nothing
end

function newton_report(label, r, t)
    L = loss_accurate(r.student, t)
    @printf("  %s: %s after %d Newton steps, |grad L| = %.2e = %.1e S, Morse index %d, flat %d, smallest eigenvalue %.4g, L = %.10g\n",
            label, r.converged ? "converged" : "NOT converged", r.iterations, r.grad_norm,
            r.grad_norm / r.grad_scale, r.negative, r.flat, r.min_eig, L)
    check(r.converged && r.grad_norm <= 1e-13 * r.grad_scale, "$label: gradient at the floor (<= 1e-13 S)")
    return L
end

function gd_then_newton(t, k, seed)
    gd = GD(t, Student(:gaussian, k, k; sigma=1 / sqrt(k), seed=seed), 0.05)
    set_tolerances!(gd; grad_tol=1e-7)
    run!(gd, 100000)
    return gd, newton(student(gd), t)
end

# Part 2: Safran & Shamir, k = m = d = 6, orthonormal teachers, output weights 1.
function safran_shamir(quick::Bool)
    k = 6
    t = Teacher(:orthogonal, k, k; norm=1.0, seed=1000 + k)
    println("Part 2: Safran-Shamir, k = m = d = $k, orthonormal teachers, output weights 1")

    # signed pseudo-inverse Newton steps: saddles are fixed points too
    r = newton(Student(:gaussian, k, k; sigma=1 / sqrt(k), seed=1), t)
    L = newton_report("seed 1, Newton from the random start", r, t)    # index 1, L = 0.02375773895
    check(r.negative >= 1 && L > 1e-20, "seed 1: a saddle (Morse index >= 1, L > 0)")

    gd, r = gd_then_newton(t, k, 237)
    @printf("  seed 237: GD stopped after %d steps at |grad L| = %.1e\n", iteration(gd), gradient_norm(gd))
    L = newton_report("seed 237, GD then Newton", r, t)                # index 0, L = 0.025080581
    check(r.negative == 0 && r.flat == 0 && r.min_eig > 0 && L > 1e-20,
          "seed 237: a certified spurious local minimum " *
          "(index 0, no flat direction, min eigenvalue > 0, L > 0)")
    check(abs(L / 0.0250806 - 1) < 1e-6, "seed 237: L = 0.0250806 (docs/secondorder.md, k = 6)")
    W = weights(r.student)                            # d x m
    println("  at the spurious minimum, |w_i| = ", [round(sqrt(sum(abs2, W[:, i])); digits=4) for i in 1:k])

    if !quick
        seeds = 300
        n_global, n_other, found = 0, 0, Tuple{Int,Float64}[]
        for i in 0:seeds-1
            _, r = gd_then_newton(t, k, i)
            L = loss_accurate(r.student, t)
            if r.converged && L <= 1e-20
                n_global += 1
            elseif r.converged && r.negative == 0 && r.flat == 0 && r.min_eig > 0
                push!(found, (i, L))
            else
                n_other += 1
            end
        end
        println("  seeds 0..$(seeds - 1), GD then Newton: $n_global global minima, ",
                "$(length(found)) spurious minima $found, $n_other other")
    end
    return nothing
end

function main(args)
    quick = "--quick" in args
    println("libtsrelu ", TsRelu.version_string(), " (", TsRelu.library_path(), ")")
    late_state(quick)
    safran_shamir(quick)
    if !isempty(FAILURES)
        println(stderr, "second_order: $(length(FAILURES)) check(s) failed")
        return 1
    end
    println("second_order: all checks passed")
    return 0
end

exit(main(ARGS))
