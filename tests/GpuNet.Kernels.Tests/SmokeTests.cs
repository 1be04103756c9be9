using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public class SmokeTests
{
    [Fact]
    public void CpuBackendAllocatesZeroFilledBuffers()
    {
        using var backend = new CpuBackend();
        var buffer = backend.Allocate<float>(5);
        var host = new float[5];
        backend.Download(buffer, host);
        Assert.All(host, v => Assert.Equal(0f, v));
    }
}
