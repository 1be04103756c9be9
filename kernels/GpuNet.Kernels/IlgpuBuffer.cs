using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Kernels;

/// <summary>
/// A <see cref="DeviceBuffer{T}"/> in an ILGPU accelerator's memory: either the owner of a
/// <see cref="MemoryBuffer1D{T, TStride}"/> or a slice, a sub-view of its parent's storage.
/// </summary>
/// <remarks>Disposing the owner frees the memory (slices become invalid); disposing a slice does nothing.</remarks>
public sealed class IlgpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    private readonly MemoryBuffer1D<T, Stride1D.Dense>? _memory;

    internal IlgpuBuffer(IlgpuBackend backend, MemoryBuffer1D<T, Stride1D.Dense> memory, int length)
        : base(backend, length)
    {
        _memory = memory;
        View = memory.View.SubView(0, length);
    }

    private IlgpuBuffer(IBackend backend, ArrayView1D<T, Stride1D.Dense> view) : base(backend, (int)view.Length)
    {
        View = view;
    }

    /// <summary>The buffer's elements on the device (what kernels receive).</summary>
    public ArrayView1D<T, Stride1D.Dense> View { get; }

    /// <summary>True for the buffer that owns the memory, false for a slice.</summary>
    public bool IsOwner => _memory is not null;

    protected override DeviceBuffer<T> CreateSlice(int offset, int length) =>
        new IlgpuBuffer<T>(Backend, View.SubView(offset, length));

    public override void Dispose() => _memory?.Dispose();
}
