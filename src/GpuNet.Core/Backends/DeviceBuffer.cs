namespace GpuNet.Backends;

/// <summary>
/// A flat, one-dimensional buffer of <typeparamref name="T"/> that lives on one backend's device
/// (host memory for <see cref="CpuBackend"/>, GPU memory for the ILGPU backend on CUDA).
/// </summary>
/// <remarks>
/// A buffer may be a <see cref="Slice"/> of another one: slices share storage with their parent and
/// do not own it, so disposing a slice does nothing. Every <see cref="IBackend"/> operation accepts
/// slices, which is how all of a model's parameters live in one buffer and are updated by one launch.
/// </remarks>
public abstract class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    protected DeviceBuffer(IBackend backend, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Backend = backend;
        Length = length;
    }

    /// <summary>The backend that owns the storage.</summary>
    public IBackend Backend { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>A view of <paramref name="length"/> elements starting at <paramref name="offset"/>, sharing storage.</summary>
    public DeviceBuffer<T> Slice(int offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"Slice [{offset}, {offset + length}) does not fit in a buffer of {Length} elements.");
        return CreateSlice(offset, length);
    }

    protected abstract DeviceBuffer<T> CreateSlice(int offset, int length);

    public abstract void Dispose();

    public override string ToString() => $"{GetType().Name}<{typeof(T).Name}>[{Length}] on {Backend.Name}";
}
