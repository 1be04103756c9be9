using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>
/// The thin core's element-wise kernels, generic over operator structs (<see cref="IElementGenerator"/>,
/// <see cref="IUnaryOperator"/>, <see cref="IBinaryOperator"/>, <see cref="IElementPredicate"/>): ILGPU compiles one
/// kernel per operator type, with the operator's formula inlined, the first time that type is launched.
/// </summary>
public static class OperatorKernels
{
    /// <summary>y[i] = op.At(i); launch with extent count.</summary>
    public static void GenerateKernel<TOp>(Index1D index, FloatView y, TOp op) where TOp : struct, IElementGenerator =>
        y[index] = op.At(index);

    /// <summary>y[i] (+)= op.Apply(x[i]); launch with extent count. y may alias x.</summary>
    public static void MapKernel<TOp>(Index1D index, FloatView x, FloatView y, TOp op, int accumulate) where TOp : struct, IUnaryOperator
    {
        float v = op.Apply(x[index]);
        y[index] = accumulate != 0 ? y[index] + v : v;
    }

    /// <summary>y[i] (+)= op.Apply(a[i], b[broadcast index of i]); launch with extent rows * cols.</summary>
    public static void ZipKernel<TOp>(Index1D index, FloatView a, FloatView b, FloatView y, TOp op, int cols, int broadcast, int accumulate)
        where TOp : struct, IBinaryOperator
    {
        float v = op.Apply(a[index], b[ElementOps.BroadcastIndex((Broadcast)broadcast, index, cols)]);
        y[index] = accumulate != 0 ? y[index] + v : v;
    }

    /// <summary>total[0] += 1 for each i where predicate.Test(a[i], b[i]); launch with extent count (integer atomics: exact).</summary>
    public static void CountKernel<TOp>(Index1D index, FloatView a, FloatView b, IntView total, TOp predicate) where TOp : struct, IElementPredicate
    {
        if (predicate.Test(a[index], b[index])) Atomic.Add(ref total[0], 1);
    }

    /// <summary>y[r] = x[r, indices[r]], NaN for an index outside [0, cols); launch with extent rows.</summary>
    public static void TakeAlongRowsKernel(Index1D row, FloatView x, IntView indices, FloatView y, int cols)
    {
        int c = indices[row];
        y[row] = (uint)c < (uint)cols ? x[row * cols + c] : float.NaN;
    }

    /// <summary>x[r, indices[r]] += values[r], nothing for an index outside [0, cols); launch with extent rows (one thread per row: no conflicts).</summary>
    public static void PutAlongRowsKernel(Index1D row, FloatView values, IntView indices, FloatView x, int cols)
    {
        int c = indices[row];
        if ((uint)c < (uint)cols) x[row * cols + c] += values[row];
    }
}
