using System.Numerics.Tensors;
using GpuNet.Backends.Cpu;

namespace GpuNet.Backends;

/// <summary>
/// The fast CPU path: a packed, SIMD GEMM (<see cref="CpuGemm"/>), element-wise operations through
/// System.Numerics.Tensors (Vector256/Vector512), and a worker pool over rows once work is large enough
/// to pay for the threads. Operations run synchronously on the calling thread.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>Element count below which an element-wise op stays on one thread.</summary>
    private const int ParallelThreshold = 1 << 18;

    public string Name => $"CPU ({Environment.ProcessorCount} threads, {SimdDescription})";

    public DeviceKind Kind => DeviceKind.Cpu;

    private static string SimdDescription =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512"
        : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2"
        : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar";

    public void Dispose() { }

    internal static CpuBuffer<T> Cpu<T>(DeviceBuffer<T> buffer, string name) where T : unmanaged =>
        buffer as CpuBuffer<T> ?? throw new ArgumentException(
            $"Buffer '{name}' lives on {buffer.Backend.Name}, not on the CPU backend. Allocate it with the backend that uses it.", name);

    private static void Require<T>(DeviceBuffer<T> buffer, long needed, string name) where T : unmanaged
    {
        if (buffer.Length < needed)
            throw new ArgumentException($"Buffer '{name}' has {buffer.Length} elements; this operation needs at least {needed}.", name);
    }

    // ---- memory ---------------------------------------------------------------------------

    public DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged =>
        new CpuBuffer<T>(this, new T[length], 0, length, owner: true);

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"Upload of {source.Length} elements into a buffer of {destination.Length}.", nameof(source));
        source.CopyTo(Cpu(destination, nameof(destination)).Span);
    }

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination) where T : unmanaged
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"Download of a buffer of {source.Length} elements into {destination.Length}.", nameof(destination));
        Cpu(source, nameof(source)).Span.CopyTo(destination);
    }

    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"Copy of {source.Length} elements into a buffer of {destination.Length}.", nameof(destination));
        Cpu(source, nameof(source)).Span.CopyTo(Cpu(destination, nameof(destination)).Span);
    }

    public void Fill(DeviceBuffer<float> buffer, float value) => Cpu(buffer, nameof(buffer)).Span.Fill(value);

    public void Fill(DeviceBuffer<int> buffer, int value) => Cpu(buffer, nameof(buffer)).Span.Fill(value);

    public void Synchronize() { }

    // ---- linear algebra -------------------------------------------------------------------

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM dimensions must be non-negative; got M={m}, N={n}, K={k}.");
        Require(a, (long)m * k, nameof(a));
        Require(b, (long)k * n, nameof(b));
        Require(c, (long)m * n, nameof(c));
        var ca = Cpu(a, nameof(a)); var cb = Cpu(b, nameof(b)); var cc = Cpu(c, nameof(c));
        CpuGemm.Gemm(transA, transB, m, n, k, alpha, ca.Array, ca.Offset, cb.Array, cb.Offset, beta, cc.Array, cc.Offset);
    }

    public void BiasAdd(DeviceBuffer<float> x, DeviceBuffer<float> bias, int rows, int cols)
    {
        Require(x, (long)rows * cols, nameof(x));
        Require(bias, cols, nameof(bias));
        ForRows(rows, cols, new BiasAddBody(Cpu(x, nameof(x)), Cpu(bias, nameof(bias)), cols));
    }

    private readonly record struct BiasAddBody(CpuBuffer<float> X, CpuBuffer<float> Bias, int Cols) : IRangeBody
    {
        public void Run(int start, int length)
        {
            var bias = Bias.Array.AsSpan(Bias.Offset, Cols);
            for (int r = start; r < start + length; r++)
            {
                var row = X.Array.AsSpan(X.Offset + r * Cols, Cols);
                TensorPrimitives.Add(row, bias, row);
            }
        }
    }

    public void ColumnSum(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result, bool accumulate)
    {
        Require(x, (long)rows * cols, nameof(x));
        Require(result, cols, nameof(result));
        var cx = Cpu(x, nameof(x));
        var dst = Cpu(result, nameof(result)).Span[..cols];
        if (!accumulate) dst.Clear();
        // Row-by-row vector adds: contiguous, SIMD, and deterministic (a fixed summation order).
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Add(dst, cx.Array.AsSpan(cx.Offset + r * cols, cols), dst);
    }

    /// <summary>A loop body over [start, start + length) of rows or elements: a struct, so the sequential path allocates nothing.</summary>
    private interface IRangeBody
    {
        void Run(int start, int length);
    }

    /// <summary>Runs <paramref name="body"/> over rows [0, rows) of an R x C matrix, split across threads when it is large.</summary>
    private static void ForRows<T>(int rows, int cols, T body) where T : struct, IRangeBody
    {
        if ((long)rows * cols < ParallelThreshold || rows < 2) body.Run(0, rows);
        else RunParallel(rows, Math.Min(rows, Environment.ProcessorCount * 4), body);
    }

    /// <summary>Runs <paramref name="body"/> over elements [0, count) in contiguous chunks, split across threads when large.</summary>
    private static void ForChunks<T>(int count, T body) where T : struct, IRangeBody
    {
        if (count < ParallelThreshold) body.Run(0, count);
        else RunParallel(count, Math.Min(Environment.ProcessorCount * 4, count / 4096), body);
    }

    /// <summary>Splits [0, count) into <paramref name="chunks"/> contiguous ranges run by the <see cref="WorkerPool"/>; allocates nothing.</summary>
    private static void RunParallel<T>(int count, int chunks, T body, bool wakeSleepers = true) where T : struct, IRangeBody =>
        WorkerPool.Run(chunks, new Chunks<T>(body, count, chunks), wakeSleepers);

    private readonly struct Chunks<T>(T body, int count, int chunks) : IPartBody where T : struct, IRangeBody
    {
        public void Run(int part)
        {
            int start = (int)((long)count * part / chunks), end = (int)((long)count * (part + 1) / chunks);
            body.Run(start, end - start);
        }
    }
}
