using GpuNet.Backends;

namespace GpuNet.Kernels.Tests;

/// <summary>One <see cref="CpuBackend"/> per test class.</summary>
public sealed class CpuBackendFixture : IDisposable
{
    public CpuBackend Backend { get; } = new();

    public void Dispose() => Backend.Dispose();
}

/// <summary>One ILGPU CPU-accelerator backend per test class (context creation and kernel compilation are costly).</summary>
public sealed class IlgpuCpuBackendFixture : IDisposable
{
    public IlgpuBackend Backend { get; } = IlgpuBackend.CreateCpu();

    public void Dispose() => Backend.Dispose();
}

/// <summary>One CUDA backend per test class, or the reason there is none (the tests then skip).</summary>
public sealed class CudaBackendFixture : IDisposable
{
    public CudaBackendFixture()
    {
        // Only "no device" skips: a CUDA device that fails to initialize is a failure worth seeing.
        if (IlgpuBackend.IsCudaAvailable())
            Backend = IlgpuBackend.CreateCuda();
    }

    public IlgpuBackend? Backend { get; }

    public void Dispose() => Backend?.Dispose();
}
