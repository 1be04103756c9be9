using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// The <see cref="IBackend"/> contract, written once and run on every backend: each concrete subclass
/// supplies the backend (shared per class through a fixture). xunit creates one instance per test, so
/// the buffers a test allocates are freed by <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Shapes are tiny but awkward (1, primes, M &lt; K, not multiples of the 64-wide GEMM tile or the
/// 32-lane warp): ILGPU's CPU accelerator simulates every GPU thread and is very slow. Many tests place
/// their buffers as slices at an offset inside a larger buffer whose guard cells hold NaN (or an
/// out-of-range int): reading outside the slice would poison the result, and writing outside it is
/// caught when the result is read back.
/// </remarks>
public abstract partial class BackendContractTests : IDisposable
{
    private const int GuardInt = -777_777;
    private const int GuardTail = 5;

    private readonly List<IDisposable> _owned = [];
    private readonly Dictionary<object, (object Parent, int Offset)> _placed = new(ReferenceEqualityComparer.Instance);

    /// <summary>The backend under test (a CUDA subclass skips here when there is no GPU).</summary>
    protected abstract IBackend Backend { get; }

    public void Dispose()
    {
        foreach (var buffer in _owned) buffer.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A device copy of <paramref name="data"/>; with an offset, a slice inside NaN guards.</summary>
    protected DeviceBuffer<float> Put(float[] data, int offset = 0) => Place(data, offset, float.NaN);

    /// <summary>A device copy of <paramref name="data"/>; with an offset, a slice inside guards.</summary>
    protected DeviceBuffer<int> Put(int[] data, int offset = 0) => Place(data, offset, GuardInt);

    /// <summary>Downloads a buffer from <see cref="Put(float[], int)"/>, checking its guards are intact.</summary>
    protected float[] Get(DeviceBuffer<float> buffer) => Fetch(buffer, float.IsNaN);

    /// <summary>Downloads a buffer from <see cref="Put(int[], int)"/>, checking its guards are intact.</summary>
    protected int[] Get(DeviceBuffer<int> buffer) => Fetch(buffer, v => v == GuardInt);

    /// <summary>A zero-filled device buffer the test owns.</summary>
    protected DeviceBuffer<T> Alloc<T>(int length) where T : unmanaged
    {
        var buffer = Backend.Allocate<T>(length);
        _owned.Add(buffer);
        return buffer;
    }

    private DeviceBuffer<T> Place<T>(T[] data, int offset, T guard) where T : unmanaged
    {
        if (offset == 0)
        {
            var plain = Alloc<T>(data.Length);
            Backend.Upload<T>(data, plain);
            return plain;
        }
        var host = new T[offset + data.Length + GuardTail];
        Array.Fill(host, guard);
        data.CopyTo(host, offset);
        var parent = Alloc<T>(host.Length);
        Backend.Upload<T>(host, parent);
        var slice = parent.Slice(offset, data.Length);
        _placed[slice] = (parent, offset);
        return slice;
    }

    private T[] Fetch<T>(DeviceBuffer<T> buffer, Func<T, bool> isGuard) where T : unmanaged
    {
        if (!_placed.TryGetValue(buffer, out var placement))
        {
            var plain = new T[buffer.Length];
            Backend.Download(buffer, plain);
            return plain;
        }
        var parent = (DeviceBuffer<T>)placement.Parent;
        var host = new T[parent.Length];
        Backend.Download(parent, host);
        for (int i = 0; i < host.Length; i++)
        {
            bool inside = i >= placement.Offset && i < placement.Offset + buffer.Length;
            if (!inside && !isGuard(host[i]))
                Assert.Fail($"Write outside the slice [{placement.Offset}, {placement.Offset + buffer.Length}): guard cell {i} of the parent now holds {host[i]}.");
        }
        return host.AsSpan(placement.Offset, buffer.Length).ToArray();
    }

    private static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    // ---- memory ---------------------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(37)]
    public void AllocateGivesZeroFilledBuffers(int length)
    {
        var floats = new float[length];
        var ints = new int[length];
        Array.Fill(floats, 1f);
        Array.Fill(ints, 1);
        Backend.Download(Alloc<float>(length), floats);
        Backend.Download(Alloc<int>(length), ints);
        Assert.All(floats, v => Assert.Equal(0f, v));
        Assert.All(ints, v => Assert.Equal(0, v));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 0)]
    [InlineData(31, 3)]
    public void UploadDownloadRoundTrips(int length, int offset)
    {
        var floats = Check.Uniform(length, seed: length, low: -1e30f, high: 1e30f);
        var ints = Enumerable.Range(0, length).Select(i => i * 7919 - 50_000).ToArray();
        Assert.Equal(floats, Get(Put(floats, offset)));
        Assert.Equal(ints, Get(Put(ints, offset)));
    }

    [Fact]
    public void RepeatedUploadsIntoOneBufferReachTheOperationsQueuedBetweenThem()
    {
        // a training step's pattern: the same host array, changed and uploaded into the same buffer, then read by queued
        // work, thousands of times with no download in between (more than a GPU backend's staging memory holds at once)
        const int length = 72, steps = 5000;
        var host = new int[length];
        var values = Alloc<int>(length);
        var results = Alloc<int>(steps * length);
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < length; i++) host[i] = s * 1000 + i;
            Backend.Upload<int>(host, values);
            Backend.Copy(values, results.Slice(s * length, length));
        }
        var all = new int[steps * length];
        Backend.Download(results, all);
        for (int s = 0; s < steps; s++)
            for (int i = 0; i < length; i++)
                if (all[s * length + i] != s * 1000 + i)
                    Assert.Fail($"upload {s}, element {i}: {all[s * length + i]}, expected {s * 1000 + i}");
        Array.Fill(host, -1); // the source may be reused at once: the last upload is on the device already
        var last = new int[length];
        Backend.Download(values, last);
        Assert.Equal((steps - 1) * 1000 + length - 1, last[^1]);
    }

    [Fact]
    public void SlicesShareStorageWithTheirParent()
    {
        var parent = Alloc<float>(10);
        var slice = parent.Slice(3, 4);
        Backend.Upload<float>([1f, 2f, 3f, 4f], slice);
        slice.Dispose(); // a slice does not own its storage: the parent stays usable
        var nested = parent.Slice(2, 6).Slice(2, 2); // elements 4 and 5 of the parent
        Backend.Fill(nested, 9f);
        var host = new float[10];
        Backend.Download(parent, host);
        Assert.Equal([0f, 0f, 0f, 1f, 9f, 9f, 4f, 0f, 0f, 0f], host);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(13, 2)]
    public void CopyDuplicatesABuffer(int length, int offset)
    {
        var data = Check.Uniform(length, seed: 5);
        var ints = Enumerable.Range(100, length).ToArray();
        var destination = Put(new float[length], offset);
        var intDestination = Put(new int[length], offset);
        Backend.Copy(Put(data, offset + 1), destination);
        Backend.Copy(Put(ints, 1), intDestination);
        Assert.Equal(data, Get(destination));
        Assert.Equal(ints, Get(intDestination));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(37, 4)]
    public void FillSetsEveryElementOfTheBufferOnly(int length, int offset)
    {
        var floats = Put(new float[length], offset);
        var ints = Put(new int[length], offset);
        Backend.Fill(floats, -2.5f);
        Backend.Fill(ints, 42);
        Assert.All(Get(floats), v => Assert.Equal(-2.5f, v));
        Assert.All(Get(ints), v => Assert.Equal(42, v));
    }

    [Fact]
    public void MismatchedLengthsThrowArgumentExceptions()
    {
        var buffer = Alloc<float>(4);
        Assert.Throws<ArgumentException>(() => Backend.Upload<float>(new float[5], buffer));
        Assert.Throws<ArgumentException>(() => Backend.Download(buffer, new float[3]));
        Assert.Throws<ArgumentException>(() => Backend.Copy(buffer, Alloc<float>(3)));
        var ex = Assert.Throws<ArgumentException>(() =>
            Backend.Gemm(false, false, 2, 3, 4, 1f, Alloc<float>(8), Alloc<float>(12), 0f, Alloc<float>(5)));
        Assert.Equal("c", ex.ParamName);
        Assert.Contains("needs at least 6", ex.Message);
    }

    [Fact]
    public void BuffersFromAnotherBackendAreRejected()
    {
        using var foreign = new ForeignBuffer(4);
        var ex = Assert.Throws<ArgumentException>(() => Backend.Fill(foreign, 1f));
        Assert.Equal("buffer", ex.ParamName);
    }

    /// <summary>A buffer no real backend allocated.</summary>
    private sealed class ForeignBuffer(int length) : DeviceBuffer<float>(new CpuBackend(), length)
    {
        protected override DeviceBuffer<float> CreateSlice(int offset, int length) => new ForeignBuffer(length);

        public override void Dispose() { }
    }
}
