using GpuNet.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Kernels;

// The thin core's operator-driven primitives. Each operator type compiles its own kernel on first use
// (then cached here), so the first step that meets a new operator pays one compilation.
public sealed partial class IlgpuBackend
{
    private readonly Dictionary<(string, Type), Delegate> _operatorKernels = [];

    private TLauncher OperatorKernel<TLauncher>(string kind, Type op, Delegate kernel) where TLauncher : Delegate
    {
        if (_operatorKernels.TryGetValue((kind, op), out var cached)) return (TLauncher)cached;
        Load(out TLauncher launcher, kernel);
        _operatorKernels[(kind, op)] = launcher;
        return launcher;
    }

    public void Generate<TOp>(TOp op, DeviceBuffer<float> y, int count) where TOp : struct, IElementGenerator
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(y, count, nameof(y));
        var vy = View(y, nameof(y));
        if (count == 0) return;
        OperatorKernel<Action<AcceleratorStream, Index1D, FloatView, TOp>>("generate", typeof(TOp), OperatorKernels.GenerateKernel<TOp>)(
            _stream, count, vy, op);
    }

    public void Map<TOp>(TOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count, bool accumulate = false)
        where TOp : struct, IUnaryOperator
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(x, count, nameof(x)); Require(y, count, nameof(y));
        var vx = View(x, nameof(x)); var vy = View(y, nameof(y));
        if (count == 0) return;
        OperatorKernel<Action<AcceleratorStream, Index1D, FloatView, FloatView, TOp, int>>("map", typeof(TOp), OperatorKernels.MapKernel<TOp>)(
            _stream, count, vx, vy, op, accumulate ? 1 : 0);
    }

    public void Zip<TOp>(TOp op, DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, int rows, int cols,
        Broadcast broadcast, bool accumulate) where TOp : struct, IBinaryOperator
    {
        RequireNonNegative(rows, cols, "Zip");
        long n = (long)rows * cols;
        Require(a, n, nameof(a)); Require(y, n, nameof(y)); Require(b, ElementOps.BroadcastLength(broadcast, rows, cols), nameof(b));
        var va = View(a, nameof(a)); var vb = View(b, nameof(b)); var vy = View(y, nameof(y));
        if (n == 0) return;
        OperatorKernel<Action<AcceleratorStream, Index1D, FloatView, FloatView, FloatView, TOp, int, int, int>>("zip", typeof(TOp), OperatorKernels.ZipKernel<TOp>)(
            _stream, (int)n, va, vb, vy, op, cols, (int)broadcast, accumulate ? 1 : 0);
    }

    public void Count<TOp>(TOp predicate, DeviceBuffer<float> a, DeviceBuffer<float> b, int count, DeviceBuffer<int> total)
        where TOp : struct, IElementPredicate
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Require(a, count, nameof(a)); Require(b, count, nameof(b)); Require(total, 1, nameof(total));
        var va = View(a, nameof(a)); var vb = View(b, nameof(b)); var vt = View(total, nameof(total));
        if (count == 0) return;
        OperatorKernel<Action<AcceleratorStream, Index1D, FloatView, FloatView, IntView, TOp>>("count", typeof(TOp), OperatorKernels.CountKernel<TOp>)(
            _stream, count, va, vb, vt, predicate);
    }

    public void TakeAlongRows(DeviceBuffer<float> x, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> y)
    {
        RequireNonNegative(rows, cols, "TakeAlongRows");
        Require(x, (long)rows * cols, nameof(x)); Require(indices, rows, nameof(indices)); Require(y, rows, nameof(y));
        var vx = View(x, nameof(x)); var vi = View(indices, nameof(indices)); var vy = View(y, nameof(y));
        if (rows > 0) _takeAlongRows(_stream, rows, vx, vi, vy, cols);
    }

    public void PutAlongRows(DeviceBuffer<float> values, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> x)
    {
        RequireNonNegative(rows, cols, "PutAlongRows");
        Require(values, rows, nameof(values)); Require(indices, rows, nameof(indices)); Require(x, (long)rows * cols, nameof(x));
        var vv = View(values, nameof(values)); var vi = View(indices, nameof(indices)); var vx = View(x, nameof(x));
        if (rows > 0) _putAlongRows(_stream, rows, vv, vi, vx, cols);
    }
}
