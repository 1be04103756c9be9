using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Kernels;

public sealed partial class IlgpuBackend
{
    public DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ObjectDisposedException.ThrowIf(_disposed, this);
        // ILGPU does not allocate empty buffers: an empty one is a zero-length view of one element
        var memory = _accelerator.Allocate1D<T>(Math.Max(length, 1));
        memory.View.MemSetToZero(_stream);
        return new IlgpuBuffer<T>(this, memory, length);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Returns once the data is on the device (ILGPU copies from a pinned span and synchronizes the
    /// stream), so <paramref name="source"/> may be reused at once. Uploads belong outside a training step.
    /// </remarks>
    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        var view = View(destination, nameof(destination));
        if (source.Length != destination.Length)
            throw new ArgumentException($"Upload of {source.Length} elements into a buffer of {destination.Length}.", nameof(source));
        if (source.Length == 0) return;
        view.CopyFromCPU(_stream, source);
    }

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination) where T : unmanaged
    {
        var view = View(source, nameof(source));
        if (source.Length != destination.Length)
            throw new ArgumentException($"Download of a buffer of {source.Length} elements into {destination.Length}.", nameof(destination));
        if (destination.Length == 0)
        {
            _stream.Synchronize(); // still "waits for queued work first"
            return;
        }
        // queued after every earlier launch on the same stream, and returns once the data is on the host
        view.CopyToCPU(_stream, destination);
    }

    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        var from = View(source, nameof(source));
        var to = View(destination, nameof(destination));
        if (source.Length != destination.Length)
            throw new ArgumentException($"Copy of {source.Length} elements into a buffer of {destination.Length}.", nameof(destination));
        if (source.Length == 0) return;
        from.CopyTo(_stream, to);
    }

    public void Fill(DeviceBuffer<float> buffer, float value)
    {
        var view = View(buffer, nameof(buffer));
        if (buffer.Length > 0) _fillFloat(_stream, buffer.Length, view, value);
    }

    public void Fill(DeviceBuffer<int> buffer, int value)
    {
        var view = View(buffer, nameof(buffer));
        if (buffer.Length > 0) _fillInt(_stream, buffer.Length, view, value);
    }
}
