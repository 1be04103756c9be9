using System.Numerics;
using System.Numerics.Tensors;
using GpuNet.Backends.Cpu;

namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void Activation(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, int count)
    {
        Require(x, count, nameof(x));
        Require(y, count, nameof(y));
        var cx = Cpu(x, nameof(x)); var cy = Cpu(y, nameof(y));
        ForChunks(count, (start, len) =>
        {
            var src = cx.Array.AsSpan(cx.Offset + start, len);
            var dst = cy.Array.AsSpan(cy.Offset + start, len);
            switch (kind)
            {
                case ActivationKind.Linear: src.CopyTo(dst); break;
                case ActivationKind.Relu: TensorPrimitives.Max(src, 0f, dst); break;
                case ActivationKind.Sigmoid: TensorPrimitives.Sigmoid(src, dst); break;
                case ActivationKind.Tanh: TensorPrimitives.Tanh(src, dst); break;
                default:
                    for (int i = 0; i < src.Length; i++) dst[i] = ActivationMath.Forward(kind, alpha, src[i]);
                    break;
            }
        });
    }

    public void ActivationBackward(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y,
        DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int count, bool accumulate)
    {
        if (kind == ActivationKind.Step) throw ActivationMath.StepHasNoGradient();
        Require(x, count, nameof(x)); Require(y, count, nameof(y));
        Require(gradOutput, count, nameof(gradOutput)); Require(gradInput, count, nameof(gradInput));
        var cx = Cpu(x, nameof(x)); var cy = Cpu(y, nameof(y));
        var cdy = Cpu(gradOutput, nameof(gradOutput)); var cdx = Cpu(gradInput, nameof(gradInput));
        ForChunks(count, (start, len) =>
        {
            var xs = cx.Array.AsSpan(cx.Offset + start, len);
            var ys = cy.Array.AsSpan(cy.Offset + start, len);
            var dy = cdy.Array.AsSpan(cdy.Offset + start, len);
            var dx = cdx.Array.AsSpan(cdx.Offset + start, len);
            if (kind == ActivationKind.Relu)
                ReluBackward(xs, dy, dx, accumulate);
            else if (accumulate)
                for (int i = 0; i < len; i++) dx[i] += dy[i] * ActivationMath.Derivative(kind, alpha, xs[i], ys[i]);
            else
                for (int i = 0; i < len; i++) dx[i] = dy[i] * ActivationMath.Derivative(kind, alpha, xs[i], ys[i]);
        });
    }

    private static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        int i = 0;
        int w = Vector<float>.Count;
        for (; i <= x.Length - w; i += w)
        {
            var vx = new Vector<float>(x[i..]);
            var g = Vector.ConditionalSelect(Vector.GreaterThan(vx, Vector<float>.Zero), new Vector<float>(dy[i..]), Vector<float>.Zero);
            if (accumulate) g += new Vector<float>(dx[i..]);
            g.CopyTo(dx[i..]);
        }
        for (; i < x.Length; i++)
        {
            float g = x[i] > 0 ? dy[i] : 0f;
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }

    public void Softmax(DeviceBuffer<float> x, DeviceBuffer<float> y, int rows, int cols)
    {
        Require(x, (long)rows * cols, nameof(x)); Require(y, (long)rows * cols, nameof(y));
        var cx = Cpu(x, nameof(x)); var cy = Cpu(y, nameof(y));
        ForRows(rows, cols, r => SoftmaxRow(cx.Array.AsSpan(cx.Offset + r * cols, cols), cy.Array.AsSpan(cy.Offset + r * cols, cols)));
    }

    /// <summary>Max-subtracted softmax of one row; returns log(sum exp(x - max)).</summary>
    private static float SoftmaxRow(ReadOnlySpan<float> x, Span<float> y)
    {
        // subtract the row max: exp(89) already overflows float32
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        TensorPrimitives.Divide(y, sum, y);
        return MathF.Log(sum);
    }
}
