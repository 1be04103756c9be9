namespace GpuNet.Backends.Cpu;

/// <summary>A <see cref="DeviceBuffer{T}"/> in managed host memory: an array and an offset into it.</summary>
public sealed class CpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    private readonly bool _owner;

    internal CpuBuffer(IBackend backend, T[] array, int offset, int length, bool owner) : base(backend, length)
    {
        Array = array;
        Offset = offset;
        _owner = owner;
    }

    /// <summary>The backing array (shared with slices).</summary>
    public T[] Array { get; }

    /// <summary>Where this buffer starts in <see cref="Array"/>.</summary>
    public int Offset { get; }

    /// <summary>The buffer's elements.</summary>
    public Span<T> Span => Array.AsSpan(Offset, Length);

    protected override DeviceBuffer<T> CreateSlice(int offset, int length) =>
        new CpuBuffer<T>(Backend, Array, Offset + offset, length, owner: false);

    public override void Dispose() { }

    internal bool IsOwner => _owner;
}
