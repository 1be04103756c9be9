using GpuNet.Backends.Cpu;

namespace GpuNet.Backends;

// The thin core's element-wise primitives, driven by operator structs, and the row gather/scatter.
public sealed partial class CpuBackend
{
    public void Generate<TOp>(TOp op, DeviceBuffer<float> y, int count) where TOp : struct, IElementGenerator
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(y, count, nameof(y));
        ForChunks(count, new GenerateBody<TOp>(op, Cpu(y, nameof(y))));
    }

    public void Map<TOp>(TOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count, bool accumulate = false)
        where TOp : struct, IUnaryOperator
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x)); Require(y, count, nameof(y));
        ForChunks(count, new MapBody<TOp>(op, Cpu(x, nameof(x)), Cpu(y, nameof(y)), accumulate));
    }

    public void Zip<TOp>(TOp op, DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, int rows, int cols,
        Broadcast broadcast, bool accumulate) where TOp : struct, IBinaryOperator
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Zip needs non-negative dimensions; got {rows} x {cols}.");
        long n = (long)rows * cols;
        Require(a, n, nameof(a)); Require(y, n, nameof(y)); Require(b, ElementOps.BroadcastLength(broadcast, rows, cols), nameof(b));
        ForChunks((int)n, new ZipBody<TOp>(op, Cpu(a, nameof(a)), Cpu(b, nameof(b)), Cpu(y, nameof(y)), cols, broadcast, accumulate));
    }

    public void Count<TOp>(TOp predicate, DeviceBuffer<float> a, DeviceBuffer<float> b, int count, DeviceBuffer<int> total)
        where TOp : struct, IElementPredicate
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(a, count, nameof(a)); Require(b, count, nameof(b)); Require(total, 1, nameof(total));
        var sa = Cpu(a, nameof(a)).Span; var sb = Cpu(b, nameof(b)).Span;
        int n = 0;
        for (int i = 0; i < count; i++) if (predicate.Test(sa[i], sb[i])) n++;
        Cpu(total, nameof(total)).Span[0] += n;
    }

    public void TakeAlongRows(DeviceBuffer<float> x, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> y)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"TakeAlongRows needs non-negative dimensions; got {rows} x {cols}.");
        Require(x, (long)rows * cols, nameof(x)); Require(indices, rows, nameof(indices)); Require(y, rows, nameof(y));
        var sx = Cpu(x, nameof(x)).Span; var si = Cpu(indices, nameof(indices)).Span; var sy = Cpu(y, nameof(y)).Span;
        for (int r = 0; r < rows; r++)
        {
            int c = si[r];
            sy[r] = (uint)c < (uint)cols ? sx[r * cols + c] : float.NaN;
        }
    }

    public void PutAlongRows(DeviceBuffer<float> values, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> x)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"PutAlongRows needs non-negative dimensions; got {rows} x {cols}.");
        Require(values, rows, nameof(values)); Require(indices, rows, nameof(indices)); Require(x, (long)rows * cols, nameof(x));
        var sv = Cpu(values, nameof(values)).Span; var si = Cpu(indices, nameof(indices)).Span; var sx = Cpu(x, nameof(x)).Span;
        for (int r = 0; r < rows; r++)
        {
            int c = si[r];
            if ((uint)c < (uint)cols) sx[r * cols + c] += sv[r];
        }
    }

    private readonly record struct GenerateBody<TOp>(TOp Op, CpuBuffer<float> Y) : IRangeBody where TOp : struct, IElementGenerator
    {
        public void Run(int start, int length)
        {
            var y = Y.Array.AsSpan(Y.Offset);
            for (int i = start; i < start + length; i++) y[i] = Op.At(i);
        }
    }

    private readonly record struct MapBody<TOp>(TOp Op, CpuBuffer<float> X, CpuBuffer<float> Y, bool Accumulate) : IRangeBody
        where TOp : struct, IUnaryOperator
    {
        public void Run(int start, int length)
        {
            var x = X.Array.AsSpan(X.Offset); var y = Y.Array.AsSpan(Y.Offset);
            if (Accumulate) for (int i = start; i < start + length; i++) y[i] += Op.Apply(x[i]);
            else for (int i = start; i < start + length; i++) y[i] = Op.Apply(x[i]);
        }
    }

    private readonly record struct ZipBody<TOp>(TOp Op, CpuBuffer<float> A, CpuBuffer<float> B, CpuBuffer<float> Y, int Cols,
        Broadcast Broadcast, bool Accumulate) : IRangeBody where TOp : struct, IBinaryOperator
    {
        public void Run(int start, int length)
        {
            var a = A.Array.AsSpan(A.Offset); var b = B.Array.AsSpan(B.Offset); var y = Y.Array.AsSpan(Y.Offset);
            for (int i = start; i < start + length; i++)
            {
                float v = Op.Apply(a[i], b[ElementOps.BroadcastIndex(Broadcast, i, Cols)]);
                y[i] = Accumulate ? y[i] + v : v;
            }
        }
    }
}
