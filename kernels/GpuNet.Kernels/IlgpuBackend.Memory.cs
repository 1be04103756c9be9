using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
    /// <para><paramref name="source"/> may be reused at once. An upload of at most <see cref="StagedUploadBytes"/> (a training
    /// step's step values) is copied into page-locked staging memory and queued on the stream without waiting: a training
    /// step's one upload does not synchronize the host with the device. The staging memory is a ring that is reused after a
    /// synchronization (made when the ring is full, or by <see cref="Synchronize"/> and <see cref="Download{T}"/>), so no
    /// queued copy reads a slot that is being overwritten. A larger upload returns once the data is on the device (ILGPU
    /// copies from a pinned span and synchronizes the stream).</para>
    /// </remarks>
    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        var view = View(destination, nameof(destination));
        if (source.Length != destination.Length)
            throw new ArgumentException($"Upload of {source.Length} elements into a buffer of {destination.Length}.", nameof(source));
        if (source.Length == 0) return;
        long bytes = (long)source.Length * Unsafe.SizeOf<T>();
        if (bytes > StagedUploadBytes)
        {
            view.CopyFromCPU(_stream, source);
            _stagingUsed = 0; // synchronized: every staged copy has run
            return;
        }
        _staging ??= _accelerator.AllocatePageLocked1D<byte>(StagingBytes);
        long slot = (bytes + StagingAlignment - 1) / StagingAlignment * StagingAlignment;
        if (_stagingUsed + slot > StagingBytes)
        {
            _stream.Synchronize(); // the ring is full: wait for the copies queued from it before overwriting them
            _stagingUsed = 0;
        }
        var staged = MemoryMarshal.Cast<byte, T>(_staging.Span.Slice((int)_stagingUsed, (int)bytes));
        source.CopyTo(staged);
        ArrayView1D<T, Stride1D.Dense> from = _staging.ArrayView.SubView(_stagingUsed, bytes).Cast<T>();
        from.CopyTo(_stream, view);
        _stagingUsed += slot;
    }

    /// <summary>The largest upload queued without waiting (<see cref="Upload{T}"/>): 64 KiB, step values up to batches of 16,376.</summary>
    public const int StagedUploadBytes = 64 << 10;

    // The page-locked ring of staged uploads (allocated at the first small upload), the bytes of it queued since the
    // last synchronization, and the slot alignment.
    private const int StagingBytes = 1 << 20, StagingAlignment = 256;
    private PageLockedArray1D<byte>? _staging;
    private long _stagingUsed;

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination) where T : unmanaged
    {
        var view = View(source, nameof(source));
        if (source.Length != destination.Length)
            throw new ArgumentException($"Download of a buffer of {source.Length} elements into {destination.Length}.", nameof(destination));
        if (destination.Length == 0)
        {
            _stream.Synchronize(); // still "waits for queued work first"
            _stagingUsed = 0;
            return;
        }
        // queued after every earlier launch on the same stream, and returns once the data is on the host
        view.CopyToCPU(_stream, destination);
        _stagingUsed = 0;
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
