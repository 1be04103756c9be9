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
