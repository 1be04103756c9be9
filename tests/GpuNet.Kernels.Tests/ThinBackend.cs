using System.Numerics.Tensors;
using GpuNet.Backends;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// A backend that implements only the thin core of <see cref="IBackend"/> (IBackend.cs: memory, GEMM, the
/// operator-driven element-wise primitives, reductions, softmax, gathers and scatters), in plain single-threaded
/// loops over its own host buffers, and none of the fused operations: every loss, layer, optimizer rule and
/// augmentation it runs is <see cref="ComposedOps"/>' default. The contract suite and a training run on it
/// prove that the core is enough.
/// </summary>
public sealed class ThinBackend : IBackend
{
    public string Name => "thin core (reference loops)";

    public DeviceKind Kind => DeviceKind.Cpu;

    /// <summary>How many times each core primitive ran (for tests that check what a composition launches).</summary>
    public Dictionary<string, int> Calls { get; } = [];

    public void Dispose() { }

    public override string ToString() => Name;

    private void Note(string primitive) => Calls[primitive] = Calls.GetValueOrDefault(primitive) + 1;

    private sealed class ThinBuffer<T>(ThinBackend backend, T[] array, int offset, int length) : DeviceBuffer<T>(backend, length)
        where T : unmanaged
    {
        public T[] Array { get; } = array;

        public int Offset { get; } = offset;

        public Span<T> Span => Array.AsSpan(Offset, Length);

        protected override DeviceBuffer<T> CreateSlice(int offset, int length) => new ThinBuffer<T>((ThinBackend)Backend, Array, Offset + offset, length);

        public override void Dispose() { }
    }

    private Span<T> S<T>(DeviceBuffer<T> buffer, long needed, string name) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not ThinBuffer<T> thin || !ReferenceEquals(thin.Backend, this))
            throw new ArgumentException($"Buffer '{name}' lives on {buffer.Backend.Name}, not on this backend.", name);
        if (buffer.Length < needed)
            throw new ArgumentException($"Buffer '{name}' has {buffer.Length} elements; this operation needs at least {needed}.", name);
        return thin.Span;
    }

    private static void RequireDims(int rows, int cols, string what)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"{what}: negative dimensions {rows} x {cols}.");
    }

    // ---- memory ---------------------------------------------------------------------------

    public DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new ThinBuffer<T>(this, new T[length], 0, length);
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        var d = S(destination, 0, nameof(destination));
        if (source.Length != d.Length) throw new ArgumentException($"Upload of {source.Length} elements into a buffer of {d.Length}.", nameof(destination));
        source.CopyTo(d);
    }

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination) where T : unmanaged
    {
        var s = S(source, 0, nameof(source));
        if (destination.Length != s.Length) throw new ArgumentException($"Download of {s.Length} elements into a span of {destination.Length}.", nameof(destination));
        s.CopyTo(destination);
    }

    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        var s = S(source, 0, nameof(source)); var d = S(destination, 0, nameof(destination));
        if (s.Length != d.Length) throw new ArgumentException($"Copy of {s.Length} elements into a buffer of {d.Length}.", nameof(destination));
        s.CopyTo(d);
    }

    public void Fill(DeviceBuffer<int> buffer, int value) => S(buffer, 0, nameof(buffer)).Fill(value);

    public void Synchronize() { }

    // ---- linear algebra -------------------------------------------------------------------

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c)
    {
        Note("Gemm");
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"GEMM dimensions must be non-negative; got M={m}, N={n}, K={k}.");
        var sa = S(a, (long)m * k, nameof(a)); var sb = S(b, (long)k * n, nameof(b)); var sc = S(c, (long)m * n, nameof(c));
        var row = new float[n];
        for (int i = 0; i < m; i++)
        {
            Array.Clear(row);
            for (int p = 0; p < k; p++)
            {
                float av = transA ? sa[p * m + i] : sa[i * k + p];
                if (transB) for (int j = 0; j < n; j++) row[j] += av * sb[j * k + p];
                else
                {
                    var bRow = sb.Slice(p * n, n);
                    for (int j = 0; j < n; j++) row[j] += av * bRow[j];
                }
            }
            var cRow = sc.Slice(i * n, n);
            for (int j = 0; j < n; j++) cRow[j] = alpha * row[j] + (beta == 0f ? 0f : beta * cRow[j]);
        }
    }

    public void ColumnSum(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result, bool accumulate)
    {
        Note("ColumnSum");
        RequireDims(rows, cols, "ColumnSum");
        var sx = S(x, (long)rows * cols, nameof(x)); var sr = S(result, cols, nameof(result));
        for (int c = 0; c < cols; c++)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += sx[r * cols + c];
            sr[c] = accumulate ? sr[c] + (float)sum : (float)sum;
        }
    }

    // ---- element-wise, driven by operator structs -----------------------------------------

    public void Generate<TOp>(TOp op, DeviceBuffer<float> y, int count) where TOp : struct, IElementGenerator
    {
        Note("Generate");
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var sy = S(y, count, nameof(y));
        for (int i = 0; i < count; i++) sy[i] = op.At(i);
    }

    public void Map<TOp>(TOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count, bool accumulate = false) where TOp : struct, IUnaryOperator
    {
        Note("Map");
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var sx = S(x, count, nameof(x)); var sy = S(y, count, nameof(y));
        for (int i = 0; i < count; i++) sy[i] = accumulate ? sy[i] + op.Apply(sx[i]) : op.Apply(sx[i]);
    }

    public void Zip<TOp>(TOp op, DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, int rows, int cols,
        Broadcast broadcast, bool accumulate) where TOp : struct, IBinaryOperator
    {
        Note("Zip");
        RequireDims(rows, cols, "Zip");
        int n = rows * cols;
        var sa = S(a, n, nameof(a)); var sb = S(b, ElementOps.BroadcastLength(broadcast, rows, cols), nameof(b)); var sy = S(y, n, nameof(y));
        for (int i = 0; i < n; i++)
        {
            float v = op.Apply(sa[i], sb[ElementOps.BroadcastIndex(broadcast, i, cols)]);
            sy[i] = accumulate ? sy[i] + v : v;
        }
    }

    public void Count<TOp>(TOp predicate, DeviceBuffer<float> a, DeviceBuffer<float> b, int count, DeviceBuffer<int> total) where TOp : struct, IElementPredicate
    {
        Note("Count");
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var sa = S(a, count, nameof(a)); var sb = S(b, count, nameof(b)); var st = S(total, 1, nameof(total));
        for (int i = 0; i < count; i++) if (predicate.Test(sa[i], sb[i])) st[0]++;
    }

    // ---- rows ------------------------------------------------------------------------------

    public void Softmax(DeviceBuffer<float> x, DeviceBuffer<float> y, int rows, int cols)
    {
        Note("Softmax");
        RequireDims(rows, cols, "Softmax");
        var sx = S(x, (long)rows * cols, nameof(x)); var sy = S(y, (long)rows * cols, nameof(y));
        for (int r = 0; r < rows; r++) ActivationMath.SoftmaxRow(sx.Slice(r * cols, cols), sy.Slice(r * cols, cols));
    }

    public void ArgMax(DeviceBuffer<float> scores, int rows, int cols, DeviceBuffer<int> result)
    {
        Note("ArgMax");
        RequireDims(rows, cols, "ArgMax");
        var ss = S(scores, (long)rows * cols, nameof(scores)); var sr = S(result, rows, nameof(result));
        for (int r = 0; r < rows; r++) sr[r] = TensorPrimitives.IndexOfMax(ss.Slice(r * cols, cols));
    }

    public void TakeAlongRows(DeviceBuffer<float> x, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> y)
    {
        Note("TakeAlongRows");
        RequireDims(rows, cols, "TakeAlongRows");
        var sx = S(x, (long)rows * cols, nameof(x)); var si = S(indices, rows, nameof(indices)); var sy = S(y, rows, nameof(y));
        for (int r = 0; r < rows; r++) sy[r] = (uint)si[r] < (uint)cols ? sx[r * cols + si[r]] : float.NaN;
    }

    public void PutAlongRows(DeviceBuffer<float> values, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> x)
    {
        Note("PutAlongRows");
        RequireDims(rows, cols, "PutAlongRows");
        var sv = S(values, rows, nameof(values)); var si = S(indices, rows, nameof(indices)); var sx = S(x, (long)rows * cols, nameof(x));
        for (int r = 0; r < rows; r++) if ((uint)si[r] < (uint)cols) sx[r * cols + si[r]] += sv[r];
    }

    // ---- data movement ---------------------------------------------------------------------

    public void GatherRows(DeviceBuffer<float> source, DeviceBuffer<int> indices, int indexOffset, int count, int cols, DeviceBuffer<float> destination)
    {
        Note("GatherRows");
        var si = S(indices, (long)indexOffset + count, nameof(indices)); var sd = S(destination, (long)count * cols, nameof(destination));
        var ss = S(source, 0, nameof(source));
        int sourceRows = ss.Length / Math.Max(cols, 1);
        for (int i = 0; i < count; i++)
        {
            int row = si[indexOffset + i];
            for (int c = 0; c < cols; c++) sd[i * cols + c] = (uint)row < (uint)sourceRows ? ss[row * cols + c] : float.NaN;
        }
    }

    public void CopyColumns(DeviceBuffer<float> x, int xCols, int xOffset, DeviceBuffer<float> y, int yCols, int yOffset, int rows, int cols, bool accumulate)
    {
        Note("CopyColumns");
        ColumnBlock.Check(xCols, xOffset, yCols, yOffset, rows, cols);
        if (rows == 0 || cols == 0) return;
        var sx = S(x, (long)(rows - 1) * xCols + xOffset + cols, nameof(x)); var sy = S(y, (long)(rows - 1) * yCols + yOffset + cols, nameof(y));
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                float v = sx[r * xCols + xOffset + c];
                int at = r * yCols + yOffset + c;
                sy[at] = accumulate ? sy[at] + v : v;
            }
    }

    public void Gather(DeviceBuffer<int> source, DeviceBuffer<int> indices, int indexOffset, int count, DeviceBuffer<int> destination)
    {
        Note("Gather");
        var si = S(indices, (long)indexOffset + count, nameof(indices)); var sd = S(destination, count, nameof(destination));
        var ss = S(source, 0, nameof(source));
        for (int i = 0; i < count; i++)
        {
            int at = si[indexOffset + i];
            if ((uint)at >= (uint)ss.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), at, $"Index {at} is outside the source's {ss.Length} elements.");
            sd[i] = ss[at];
        }
    }
}
