using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// Device slices at an offset inside parents whose other cells are NaN, for the GEMM kernel tests: a load
/// outside a slice poisons the result, and a store outside it is caught when the slice is read back.
/// </summary>
internal sealed class GuardedSlices(IBackend backend) : IDisposable
{
    private const int GuardTail = 5;

    private readonly List<IDisposable> _owned = [];
    private readonly Dictionary<DeviceBuffer<float>, DeviceBuffer<float>> _parents = new(ReferenceEqualityComparer.Instance);

    /// <summary>A slice at <paramref name="offset"/> holding <paramref name="data"/>, inside a parent whose other cells are NaN.</summary>
    public DeviceBuffer<float> Put(float[] data, int offset)
    {
        var host = new float[offset + data.Length + GuardTail];
        Array.Fill(host, float.NaN);
        data.CopyTo(host, offset);
        var parent = backend.Allocate<float>(host.Length);
        _owned.Add(parent);
        backend.Upload<float>(host, parent);
        var slice = parent.Slice(offset, data.Length);
        _parents[slice] = parent;
        return slice;
    }

    /// <summary>The slice's values, after checking that every guard cell of its parent is still NaN.</summary>
    public float[] Get(DeviceBuffer<float> slice, int offset)
    {
        var parent = _parents[slice];
        var host = new float[parent.Length];
        backend.Download(parent, host);
        for (int i = 0; i < host.Length; i++)
            if ((i < offset || i >= offset + slice.Length) && !float.IsNaN(host[i]))
                Assert.Fail($"Write outside the slice [{offset}, {offset + slice.Length}): guard cell {i} now holds {host[i]}.");
        return host.AsSpan(offset, slice.Length).ToArray();
    }

    public void Dispose()
    {
        foreach (var buffer in _owned) buffer.Dispose();
    }
}
