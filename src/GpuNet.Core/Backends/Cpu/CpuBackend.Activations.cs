using System.Numerics;
using System.Numerics.Tensors;
using GpuNet.Backends.Cpu;

namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void Activation(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, int count)
    {
        ActivationMath.RequireKnown(kind);
        Require(x, count, nameof(x));
        Require(y, count, nameof(y));
        ForChunks(count, new ActivationBody(kind, alpha, Cpu(x, nameof(x)), Cpu(y, nameof(y))));
    }

    private readonly record struct ActivationBody(ActivationKind Kind, float Alpha, CpuBuffer<float> X, CpuBuffer<float> Y) : IRangeBody
    {
        public void Run(int start, int len)
        {
            var src = X.Array.AsSpan(X.Offset + start, len);
            var dst = Y.Array.AsSpan(Y.Offset + start, len);
            switch (Kind)
            {
                case ActivationKind.Linear: src.CopyTo(dst); break;
                case ActivationKind.Relu: TensorPrimitives.Max(src, 0f, dst); break;
                case ActivationKind.Sigmoid: TensorPrimitives.Sigmoid(src, dst); break;
                case ActivationKind.Tanh: TensorPrimitives.Tanh(src, dst); break;
                default:
                    for (int i = 0; i < src.Length; i++) dst[i] = ActivationMath.Forward(Kind, Alpha, src[i]);
                    break;
            }
        }
    }

    public void ActivationBackward(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y,
        DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int count, bool accumulate)
    {
        if (kind == ActivationKind.Step) throw ActivationMath.StepHasNoGradient();
        ActivationMath.RequireKnown(kind);
        Require(x, count, nameof(x)); Require(y, count, nameof(y));
        Require(gradOutput, count, nameof(gradOutput)); Require(gradInput, count, nameof(gradInput));
        ForChunks(count, new ActivationBackwardBody(kind, alpha, Cpu(x, nameof(x)), Cpu(y, nameof(y)),
            Cpu(gradOutput, nameof(gradOutput)), Cpu(gradInput, nameof(gradInput)), accumulate));
    }

    private readonly record struct ActivationBackwardBody(ActivationKind Kind, float Alpha, CpuBuffer<float> X, CpuBuffer<float> Y,
        CpuBuffer<float> GradOutput, CpuBuffer<float> GradInput, bool Accumulate) : IRangeBody
    {
        public void Run(int start, int len)
        {
            var xs = X.Array.AsSpan(X.Offset + start, len);
            var ys = Y.Array.AsSpan(Y.Offset + start, len);
            var dy = GradOutput.Array.AsSpan(GradOutput.Offset + start, len);
            var dx = GradInput.Array.AsSpan(GradInput.Offset + start, len);
            if (Kind == ActivationKind.Relu)
                ReluBackward(xs, dy, dx, Accumulate);
            else if (Accumulate)
                for (int i = 0; i < len; i++) dx[i] += dy[i] * ActivationMath.Derivative(Kind, Alpha, xs[i], ys[i]);
            else
                for (int i = 0; i < len; i++) dx[i] = dy[i] * ActivationMath.Derivative(Kind, Alpha, xs[i], ys[i]);
        }
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
        ForRows(rows, cols, new SoftmaxBody(Cpu(x, nameof(x)), Cpu(y, nameof(y)), cols));
    }

    private readonly record struct SoftmaxBody(CpuBuffer<float> X, CpuBuffer<float> Y, int Cols) : IRangeBody
    {
        public void Run(int start, int length)
        {
            for (int r = start; r < start + length; r++)
                ActivationMath.SoftmaxRow(X.Array.AsSpan(X.Offset + r * Cols, Cols), Y.Array.AsSpan(Y.Offset + r * Cols, Cols));
        }
    }
}
