# The TsRelu test suite, the Julia counterpart of bindings/python/tests:
#
#     julia --project=bindings/julia -e 'using Pkg; Pkg.test()'
#     julia -t 4,1 --project=bindings/julia bindings/julia/test/runtests.jl
#
# It needs the library (make all; or TSRELU_LIBRARY). Julia is not installed
# on this project's machines, so this file has never been run here:
# tests/integration/test_julia_ccall.py checks statically that every TsRelu
# name it uses is defined by the module (bindings/julia/README.md).
using Test
using TsRelu
using TsRelu: TSRELU_EINVAL, TSRELU_EDIM, TSRELU_ENONFINITE, TSRELU_EIO, TSRELU_EFORMAT,
              library_path

# The status a call throws (a TsReluError), or :none.
function status_of(f)
    try
        f()
    catch e
        e isa TsReluError && return e.status
        rethrow()
    end
    return :none
end

# Central finite difference of the loss in W[c, i] (a d x m student).
function fd_gradient(W, t; h=1e-6)
    g = similar(W)
    for i in eachindex(W)
        Wp, Wm = copy(W), copy(W)
        Wp[i] += h
        Wm[i] -= h
        g[i] = (loss(Student(Wp), t) - loss(Student(Wm), t)) / (2h)
    end
    return g
end

@testset "TsRelu" begin
    @testset "library" begin
        @test isfile(library_path()) || library_path() == "libtsrelu.so.1"
        @test TsRelu.version_number() >= 10000 * TsRelu.API_MAJOR + 100 * TsRelu.API_MINOR
    end

    @testset "loss: closed form" begin
        # w = e1, v = e2 (theta = pi/2): g(w,w) = g(v,v) = 1/2, g(w,v) = 1/(2 pi),
        # so L = 1/2 (1/2 - 2/(2 pi) + 1/2) = 1/2 - 1/(2 pi).
        t = Teacher(reshape([0.0, 1.0], 2, 1))
        s = Student(reshape([1.0, 0.0], 2, 1))
        @test loss(s, t) ≈ 0.5 - 1 / (2pi) rtol = 1e-15
        @test loss_accurate(s, t) ≈ 0.5 - 1 / (2pi) rtol = 1e-15
        # a student equal to its teacher: L = 0 exactly, gradient 0
        @test loss(Student(reshape([0.0, 1.0], 2, 1)), t) == 0.0
        @test maximum(abs, gradient(Student(reshape([0.0, 1.0], 2, 1)), t)) <= 1e-15
        # w = c v with c > 0 (theta = 0): L = 1/2 (c - 1)^2 |v|^2 / 2
        s2 = Student(reshape([0.0, 3.0], 2, 1))
        @test loss(s2, t) ≈ 0.25 * (3 - 1)^2 rtol = 1e-15
    end

    @testset "gradient: finite differences" begin
        t = Teacher(:orthogonal, 2, 5; norm=1.0, seed=1)
        s = Student(:gaussian, 4, 5; sigma=0.5, seed=2)
        W = weights(s)
        g = gradient(s, t)
        @test size(g) == size(W) == (5, 4)
        # central differences: error O(h^2) + O(eps L / h), about 1e-9 here
        @test maximum(abs, g - fd_gradient(W, t)) <= 1e-7
        gW, ga = gradient(s, t; output=true)
        @test gW == g
        @test length(ga) == 4
    end

    @testset "GD run with an observer" begin
        t = Teacher(:orthogonal, 2, 8; norm=1.0, seed=1)
        s = Student(:gaussian, 6, 8; sigma=1e-3, seed=2)
        gd = GD(t, s, 0.1)
        seen = Tuple{Int,Float64}[]
        status = run!(gd, 100_000; per_decade=5,
                      observer=g -> (push!(seen, (iteration(g), loss_accurate(g))); nothing))
        @test status == :ok
        @test iteration(gd) == 100_000
        @test first(seen)[1] == 0 && last(seen)[1] == 100_000
        @test issorted(first.(seen))
        @test all(diff(last.(seen))[10:end] .< 0)      # the loss decreases late
        slope, _ = rate_fit(first.(seen), last.(seen); t_lo=1000)
        @test -3.3 < slope < -2.7                       # the O(T^-3) phase
        @test phase(gd) == 3
        # an observer that stops the run
        gd2 = GD(t, s, 0.1)
        @test run!(gd2, 1000; every=10, observer=g -> iteration(g) >= 50 ? 7 : 0) == :stopped
        @test iteration(gd2) == 50 && stop_value(gd2) == 7
        # an exception in the observer stops the run and is re-thrown
        @test_throws ErrorException run!(gd2, 10; every=1, observer=g -> error("boom"))
    end

    @testset "checkpoint roundtrip" begin
        t = Teacher(:orthogonal, 2, 6; norm=1.0, seed=3)
        s = Student(:gaussian, 5, 6; sigma=1e-2, seed=4)
        a, b = GD(t, s, 0.05), GD(t, s, 0.05)
        run!(a, 2000)
        path = tempname()
        save(a, path)
        c = load(GD, path)
        @test iteration(c) == 2000
        @test weights(c) == weights(a)
        run!(a, 3000)
        run!(c, 3000)
        run!(b, 5000)
        @test weights(c) == weights(a) == weights(b)    # bit for bit
        @test loss(c) == loss(b)
        rm(path)
        @test status_of(() -> load(GD, path)) == TSRELU_EIO
        write(path, "not a checkpoint")
        @test status_of(() -> load(GD, path)) == TSRELU_EFORMAT
        rm(path)
    end

    @testset "error statuses" begin
        @test status_of(() -> Teacher(:orthogonal, 3, 2)) == TSRELU_EINVAL       # k > d
        @test status_of(() -> Teacher(:orthogonal, 2, 4; norm=0.0)) == TSRELU_EINVAL
        @test status_of(() -> Teacher(:orthogonal, 2, 4; norm=NaN)) == TSRELU_ENONFINITE
        @test status_of(() -> Teacher([1.0 0.0; 0.0 0.0])) == TSRELU_EINVAL      # zero neuron
        @test status_of(() -> Student(:gaussian, 0, 3; sigma=1.0)) == TSRELU_EINVAL
        @test status_of(() -> Student(:gaussian, 2, 3; sigma=Inf)) == TSRELU_ENONFINITE
        @test status_of(() -> Student([1.0 Inf; 0.0 1.0])) == TSRELU_ENONFINITE
        t = Teacher(:orthogonal, 2, 4; seed=1)
        s5 = Student(:gaussian, 3, 5; sigma=1.0, seed=1)
        @test status_of(() -> loss(s5, t)) == TSRELU_EDIM
        @test status_of(() -> GD(t, s5, 0.1)) == TSRELU_EDIM
        e = try
            loss(s5, t)
        catch err
            err
        end
        @test e.name == "TSRELU_EDIM" && occursin("d=5", e.message)
    end

    @testset "batch with observers (Julia >= 1.9: foreign threads)" begin
        t = Teacher(:orthogonal, 2, 6; norm=1.0, seed=1)
        b = Batch(; threads=2)
        seen = [Int[] for _ in 1:3]
        for seed in 1:3
            i = add!(b, t, Student(:gaussian, 4, 6; sigma=1e-3, seed=seed), 0.1, 5000)
            set_observer!(state(b, i), g -> (push!(seen[i], iteration(g)); nothing); every=1000)
        end
        @test run!(b) == :ok
        for i in 1:3     # called from the batch's worker threads
            @test seen[i] == [0, 1000, 2000, 3000, 4000, 5000]
        end
        for i in 1:3
            alone = GD(t, Student(:gaussian, 4, 6; sigma=1e-3, seed=i), 0.1)
            run!(alone, 5000)
            @test weights(state(b, i)) == weights(alone)  # bit-identical to a run alone
        end
    end
end
