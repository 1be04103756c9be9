using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>The contract tests on the SIMD <see cref="CpuBackend"/>.</summary>
public sealed class CpuBackendTests(CpuBackendFixture fixture) : BackendContractTests, IClassFixture<CpuBackendFixture>
{
    protected override IBackend Backend => fixture.Backend;
}

/// <summary>The contract tests on the ILGPU kernels run by ILGPU's CPU accelerator.</summary>
public sealed class IlgpuCpuBackendTests(IlgpuCpuBackendFixture fixture) : BackendContractTests, IClassFixture<IlgpuCpuBackendFixture>
{
    protected override IBackend Backend => fixture.Backend;

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void GemmNaiveKernelMatchesReference(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int offset) =>
        CheckGemm(fixture.Backend.GemmNaive, transA, transB, m, n, k, alpha, beta, offset);

    [Fact]
    public void KindAndNameDescribeTheCpuAccelerator()
    {
        Assert.Equal(DeviceKind.IlgpuCpu, fixture.Backend.Kind);
        Assert.Equal("ILGPU CPU accelerator", fixture.Backend.Name);
        Assert.Contains(IlgpuBackend.ListDevices(), line => line.StartsWith("ILGPU CPU accelerator", StringComparison.Ordinal));
    }
}

/// <summary>
/// The whole contract suite on <see cref="ThinBackend"/>, which implements only the thin core: every fused
/// operation is tested here through its default composition (<see cref="ComposedOps"/>).
/// </summary>
public sealed class ThinBackendTests : BackendContractTests
{
    private readonly ThinBackend _backend = new();

    protected override IBackend Backend => _backend;

    [Fact]
    public void FusedOperationsRunAsCompositionsOfCorePrimitives()
    {
        var logits = Put([1f, 2f, 3f, 0.5f, -1f, 4f]);
        var labels = Put([2, 0]);
        var loss = Put([0f]);
        var grad = Alloc<float>(6);
        _backend.Calls.Clear();
        Backend.SoftmaxCrossEntropy(logits, labels, 2, 3, null, grad, 0.5f, loss);
        // max by ArgMax + TakeAlongRows, exp and log by Map, row sums by GEMM, the labelled entries by Take/PutAlongRows
        foreach (var primitive in new[] { "ArgMax", "TakeAlongRows", "Zip", "Map", "Gemm", "ColumnSum", "Generate", "PutAlongRows" })
            Assert.True(_backend.Calls.GetValueOrDefault(primitive) > 0, $"{primitive} was not used");
        Assert.DoesNotContain("Softmax", _backend.Calls.Keys);
    }
}

/// <summary>The composed defaults on the ILGPU kernels (ILGPU's CPU accelerator): the generic operator kernels compile and
/// run for every operator struct the compositions use.</summary>
public sealed class IlgpuComposedTests(IlgpuCpuBackendFixture fixture) : IClassFixture<IlgpuCpuBackendFixture>
{
    [Fact]
    public void ComposedLossesAndOptimizerMatchTheFusedKernels()
    {
        var b = fixture.Backend;
        int rows = 3, cols = 5, n = rows * cols;
        var x = Check.Uniform(n, seed: 11, low: -3f, high: 3f);
        var t = Check.Uniform(n, seed: 12, low: 0f, high: 1f);
        int[] labels = [4, 0, 2];
        using var dx = b.Allocate<float>(n); using var dt = b.Allocate<float>(n); using var dl = b.Allocate<int>(rows);
        b.Upload<float>(x, dx); b.Upload<float>(t, dt); b.Upload<int>(labels, dl);

        float[] Run(Action<IBackend, DeviceBuffer<float>, DeviceBuffer<float>> op, IBackend via)
        {
            using var loss = b.Allocate<float>(1); using var grad = b.Allocate<float>(n);
            op(via, loss, grad);
            var host = new float[n + 1];
            b.Download(grad, host.AsSpan(0, n)); b.Download(loss, host.AsSpan(n, 1));
            return host;
        }

        void Same(Action<IBackend, DeviceBuffer<float>, DeviceBuffer<float>> op, string what) =>
            Check.Close(Run(op, b), Run((_, l, g) => op(new CoreOnlyBackend(b), l, g), b), 1e-6, 1e-5, what);

        Same((be, l, g) => be.SoftmaxCrossEntropy(dx, dl, rows, cols, null, g, 1f / rows, l), "sparse softmax cross-entropy");
        Same((be, l, g) => be.SoftmaxCrossEntropyDense(dx, dt, rows, cols, null, g, 1f / rows, l), "dense softmax cross-entropy");
        Same((be, l, g) => be.SigmoidCrossEntropy(dx, dt, n, null, g, 1f / n, l), "sigmoid cross-entropy");
        Same((be, l, g) => be.MeanSquaredError(dx, dt, n, g, 1f / n, l), "squared error");
        Same((be, l, g) => be.ActivationBackward(ActivationKind.Elu, 0.7f, dx, dx, dt, g, n, false), "ELU backward");
        Same((be, l, g) =>
        {
            using var s1 = b.Allocate<float>(n); using var s2 = b.Allocate<float>(n); using var values = b.Allocate<int>(3);
            b.Copy(dx, g);
            // learning rate, c1 = 1/(1 - 0.9^1), c2 = 1/(1 - 0.999^1) as float bits, read by the update on the device
            b.Upload<int>([StepValueMath.FromFloat(0.01f), StepValueMath.FromFloat(10f), StepValueMath.FromFloat(1000f)], values);
            var adam = new OptimizerStep { Kind = OptimizerKind.Adam, Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-7f };
            be.OptimizerUpdate(adam, values, 0, g, dt, s1, s2, n);
            be.OptimizerUpdate(adam, values, 0, g, dt, s1, s2, n);
        }, "Adam, two steps");
        using var composed = b.Allocate<int>(1); using var fused = b.Allocate<int>(1);
        ((IBackend)new CoreOnlyBackend(b)).CountCorrect(dx, dl, rows, cols, composed);
        b.CountCorrect(dx, dl, rows, cols, fused);
        var counts = new int[2];
        b.Download(composed, counts.AsSpan(0, 1)); b.Download(fused, counts.AsSpan(1, 1));
        Assert.Equal(counts[1], counts[0]);
    }
}

/// <summary>The contract tests on an NVIDIA GPU; every test skips when there is no CUDA device.</summary>
public sealed class CudaBackendTests(CudaBackendFixture fixture) : BackendContractTests, IClassFixture<CudaBackendFixture>
{
    protected override IBackend Backend => fixture.Backend ?? SkipNoCuda();

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void GemmNaiveKernelMatchesReference(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int offset)
    {
        var backend = (IlgpuBackend)Backend;
        CheckGemm(backend.GemmNaive, transA, transB, m, n, k, alpha, beta, offset);
    }

    [Fact]
    public void KindIsCuda() => Assert.Equal(DeviceKind.Cuda, Backend.Kind);

    [Fact]
    public void CreateCudaThrowsForAMissingDeviceIndex()
    {
        _ = Backend;
        Assert.Throws<ArgumentOutOfRangeException>(() => IlgpuBackend.CreateCuda(1000));
    }

    private static IBackend SkipNoCuda()
    {
        Assert.Skip("No CUDA device: IlgpuBackend.IsCudaAvailable() is false on this machine.");
        return null!;
    }
}

/// <summary>Factory behaviour that needs no device.</summary>
public sealed class IlgpuFactoryTests
{
    [Fact]
    public void CreateCudaWithoutADeviceThrowsAClearInvalidOperationException()
    {
        if (IlgpuBackend.IsCudaAvailable()) Assert.Skip("A CUDA device is present.");
        var ex = Assert.Throws<InvalidOperationException>(() => IlgpuBackend.CreateCuda());
        Assert.Contains("No CUDA device", ex.Message);
    }

    [Fact]
    public void ListDevicesGivesOneNonEmptyLinePerDevice()
    {
        var lines = IlgpuBackend.ListDevices();
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.False(string.IsNullOrWhiteSpace(line)));
    }
}

/// <summary>The real backends implement every fused operation themselves: none falls back to its composed default.</summary>
public sealed class FusedOperationCoverageTests
{
    public static TheoryData<string> Backends() => [nameof(CpuBackend), nameof(IlgpuBackend)];

    [Theory]
    [MemberData(nameof(Backends))]
    public void EveryInterfaceMethodIsTheBackendsOwn(string backend)
    {
        var type = backend == nameof(CpuBackend) ? typeof(CpuBackend) : typeof(IlgpuBackend);
        var map = type.GetInterfaceMap(typeof(IBackend));
        var defaulted = map.InterfaceMethods.Where((m, i) => !m.IsSpecialName && map.TargetMethods[i].DeclaringType == typeof(IBackend)) // MemoryBytes keeps its default
            .Select(m => m.Name).ToList();
        Assert.True(defaulted.Count == 0, $"{backend} runs these as their composed defaults: {string.Join(", ", defaulted)}");
    }
}
