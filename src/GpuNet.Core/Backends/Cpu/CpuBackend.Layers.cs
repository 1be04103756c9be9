using System.Numerics.Tensors;

namespace GpuNet.Backends;

public sealed partial class CpuBackend
{
    public void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> result, int count, bool accumulate)
    {
        Require(a, count, nameof(a)); Require(b, count, nameof(b)); Require(result, count, nameof(result));
        var sa = Cpu(a, nameof(a)).Span[..count]; var sb = Cpu(b, nameof(b)).Span[..count]; var sr = Cpu(result, nameof(result)).Span[..count];
        if (accumulate) TensorPrimitives.FusedMultiplyAdd(sa, sb, sr, sr);
        else TensorPrimitives.Multiply(sa, sb, sr);
    }

    public void Unary(UnaryOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count)
    {
        Require(x, count, nameof(x)); Require(y, count, nameof(y));
        var sx = Cpu(x, nameof(x)).Span[..count]; var sy = Cpu(y, nameof(y)).Span[..count];
        switch (op)
        {
            case UnaryOp.Exp: TensorPrimitives.Exp(sx, sy); break;
            case UnaryOp.Log: TensorPrimitives.Log(sx, sy); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Reciprocal(sx, sy); break;
            default: UnaryMath.RequireKnown(op); break;
        }
    }

    public void Scale(DeviceBuffer<float> buffer, int count, float factor)
    {
        Require(buffer, count, nameof(buffer));
        var s = Cpu(buffer, nameof(buffer)).Span[..count];
        TensorPrimitives.Multiply(s, factor, s);
    }

    public void ColumnAffine(DeviceBuffer<float> x, DeviceBuffer<float> scale, DeviceBuffer<float>? shift, DeviceBuffer<float> y,
        int rows, int cols, bool accumulate)
    {
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(y, n, nameof(y)); Require(scale, cols, nameof(scale));
        if (shift is not null) Require(shift, cols, nameof(shift));
        var sx = Cpu(x, nameof(x)).Span; var sy = Cpu(y, nameof(y)).Span;
        var sc = Cpu(scale, nameof(scale)).Span[..cols];
        var sh = shift is null ? default : Cpu(shift, nameof(shift)).Span[..cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                float v = sx[i] * sc[c] + (shift is null ? 0f : sh[c]);
                sy[i] = accumulate ? sy[i] + v : v;
            }
    }

    public void Dropout(DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> mask, int count, float rate, ulong seed, uint purpose,
        DeviceBuffer<int> stepValues, int stepIndex)
    {
        Require(x, count, nameof(x)); Require(y, count, nameof(y)); Require(mask, count, nameof(mask));
        StepValueMath.Require(stepValues, stepIndex, 2, nameof(stepValues));
        var values = Cpu(stepValues, nameof(stepValues)).Span;
        ulong step = StepValueMath.Counter(values[stepIndex], values[stepIndex + 1]);
        var sx = Cpu(x, nameof(x)).Span; var sy = Cpu(y, nameof(y)).Span; var sm = Cpu(mask, nameof(mask)).Span;
        float keepScale = 1f / (1f - rate);
        for (int i = 0; i < count; i++)
        {
            // inverted dropout: kept units are scaled by 1/(1 - rate) so inference needs no rescaling
            sm[i] = RandomMath.DropoutFactor(i, step, purpose, seed, rate, keepScale);
            sy[i] = sx[i] * sm[i];
        }
    }

    public void L1L2Penalty(DeviceBuffer<float> parameters, int count, float l1, float l2, DeviceBuffer<float> lossSum)
    {
        Require(parameters, count, nameof(parameters)); Require(lossSum, 1, nameof(lossSum));
        var w = Cpu(parameters, nameof(parameters)).Span[..count];
        double penalty = 0;
        if (l1 != 0) penalty += l1 * (double)TensorPrimitives.SumOfMagnitudes(w);
        if (l2 != 0) penalty += l2 * (double)TensorPrimitives.SumOfSquares(w);
        Cpu(lossSum, nameof(lossSum)).Span[0] += (float)penalty;
    }

    public void L1L2Gradient(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float l1, float l2)
    {
        Require(parameters, count, nameof(parameters)); Require(gradients, count, nameof(gradients));
        var w = Cpu(parameters, nameof(parameters)).Span; var g = Cpu(gradients, nameof(gradients)).Span;
        for (int i = 0; i < count; i++) g[i] += LayerMath.L1L2Gradient(w[i], l1, l2);
    }

    public void ClipByValue(DeviceBuffer<float> x, int count, float limit)
    {
        Require(x, count, nameof(x));
        var v = Cpu(x, nameof(x)).Span[..count];
        for (int i = 0; i < v.Length; i++) v[i] = LayerMath.ClipByValue(v[i], limit);
    }

    public void ScaleToMaxNorm(DeviceBuffer<float> x, int count, DeviceBuffer<float> sumSquares, float maxNorm)
    {
        Require(x, count, nameof(x)); Require(sumSquares, 1, nameof(sumSquares));
        float norm = MathF.Sqrt(Cpu(sumSquares, nameof(sumSquares)).Span[0]);
        if (norm > maxNorm) TensorPrimitives.Multiply(Cpu(x, nameof(x)).Span[..count], maxNorm / norm, Cpu(x, nameof(x)).Span[..count]);
    }

    public void BatchNormTraining(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> y, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float momentum, float epsilon,
        DeviceBuffer<float>? rowWeights = null)
    {
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(y, n, nameof(y));
        Require(gamma, cols, nameof(gamma)); Require(beta, cols, nameof(beta));
        Require(savedMean, cols, nameof(savedMean)); Require(savedInvStd, cols, nameof(savedInvStd));
        Require(runningMean, cols, nameof(runningMean)); Require(runningVariance, cols, nameof(runningVariance));
        RowWeights.Require(rowWeights, rows);
        var sx = Cpu(x, nameof(x)).Span; var sy = Cpu(y, nameof(y)).Span;
        var g = Cpu(gamma, nameof(gamma)).Span; var be = Cpu(beta, nameof(beta)).Span;
        var mu = Cpu(savedMean, nameof(savedMean)).Span; var inv = Cpu(savedInvStd, nameof(savedInvStd)).Span;
        var rm = Cpu(runningMean, nameof(runningMean)).Span; var rv = Cpu(runningVariance, nameof(runningVariance)).Span;
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        for (int c = 0; c < cols; c++)
        {
            // the mean and the biased variance (as Keras uses for normalization and the moving average) over the rows,
            // each weighted 1 / R, or by its gradient weight over the real rows of a weighted batch
            double mean = 0, variance = 0;
            if (w.IsEmpty)
            {
                for (int r = 0; r < rows; r++) mean += sx[r * cols + c];
                mean /= rows;
                for (int r = 0; r < rows; r++) { double d = sx[r * cols + c] - mean; variance += d * d; }
                variance /= rows;
            }
            else
            {
                for (int r = 0; r < rows; r++) mean += LayerMath.StatisticTerm(w[r], w[rows + r], sx[r * cols + c]);
                for (int r = 0; r < rows; r++)
                {
                    float d = sx[r * cols + c] - (float)mean;
                    variance += LayerMath.StatisticTerm(w[r], w[rows + r], d * d);
                }
            }
            mu[c] = (float)mean;
            inv[c] = (float)(1 / Math.Sqrt(variance + epsilon));
            rm[c] = LayerMath.MovingAverage(rm[c], (float)mean, momentum);
            rv[c] = LayerMath.MovingAverage(rv[c], (float)variance, momentum);
            for (int r = 0; r < rows; r++) sy[r * cols + c] = LayerMath.Normalize(sx[r * cols + c], mu[c], inv[c], g[c], be[c]);
        }
    }

    public void BatchNormInference(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float epsilon, DeviceBuffer<float> y)
    {
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(y, n, nameof(y));
        var sx = Cpu(x, nameof(x)).Span; var sy = Cpu(y, nameof(y)).Span;
        var g = Cpu(gamma, nameof(gamma)).Span; var be = Cpu(beta, nameof(beta)).Span;
        var rm = Cpu(runningMean, nameof(runningMean)).Span; var rv = Cpu(runningVariance, nameof(runningVariance)).Span;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                sy[r * cols + c] = LayerMath.NormalizeInference(sx[r * cols + c], rm[c], rv[c], epsilon, g[c], be[c]);
    }

    public void BatchNormBackward(DeviceBuffer<float> x, DeviceBuffer<float> gradOutput, int rows, int cols, DeviceBuffer<float> gamma,
        DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float>? gradInput,
        DeviceBuffer<float> gradGamma, DeviceBuffer<float> gradBeta, bool accumulateInput, bool accumulateParameters,
        DeviceBuffer<float>? rowWeights = null)
    {
        long n = (long)rows * cols;
        Require(x, n, nameof(x)); Require(gradOutput, n, nameof(gradOutput));
        RowWeights.Require(rowWeights, rows);
        var sx = Cpu(x, nameof(x)).Span; var dy = Cpu(gradOutput, nameof(gradOutput)).Span;
        var g = Cpu(gamma, nameof(gamma)).Span; var mu = Cpu(savedMean, nameof(savedMean)).Span; var inv = Cpu(savedInvStd, nameof(savedInvStd)).Span;
        var dx = gradInput is null ? default : Cpu(gradInput, nameof(gradInput)).Span;
        var dg = Cpu(gradGamma, nameof(gradGamma)).Span; var db = Cpu(gradBeta, nameof(gradBeta)).Span;
        var w = rowWeights is null ? default : Cpu(rowWeights, nameof(rowWeights)).Span;
        for (int c = 0; c < cols; c++)
        {
            // xhat = (x - mean) * invStd;  dbeta = sum dy;  dgamma = sum dy xhat (over the real rows of a weighted batch);
            // dx = gamma invStd / N * (N dy - dbeta - xhat dgamma), or gamma invStd (dy - u (dbeta + xhat dgamma)) weighted
            double sumDy = 0, sumDyXhat = 0;
            for (int r = 0; r < rows; r++)
            {
                if (IsPadding(w, r, 1)) continue;
                float xhat = (sx[r * cols + c] - mu[c]) * inv[c];
                sumDy += dy[r * cols + c];
                sumDyXhat += dy[r * cols + c] * xhat;
            }
            db[c] = (float)(accumulateParameters ? db[c] + sumDy : sumDy);
            dg[c] = (float)(accumulateParameters ? dg[c] + sumDyXhat : sumDyXhat);
            if (gradInput is null) continue;
            float k = g[c] * inv[c] / rows;
            for (int r = 0; r < rows; r++)
            {
                int i = r * cols + c;
                float v = w.IsEmpty ? LayerMath.NormalizeBackward(sx[i], dy[i], mu[c], inv[c], k, rows, (float)sumDy, (float)sumDyXhat)
                    : IsPadding(w, r, 1) ? 0f
                    : LayerMath.NormalizeBackwardWeighted(sx[i], dy[i], mu[c], inv[c], g[c], w[rows + r], (float)sumDy, (float)sumDyXhat);
                dx[i] = accumulateInput ? dx[i] + v : v;
            }
        }
    }

    public void Maxout(DeviceBuffer<float> x, int rows, int units, int pieces, DeviceBuffer<float> y, DeviceBuffer<int> argMax)
    {
        Require(x, (long)rows * units * pieces, nameof(x)); Require(y, (long)rows * units, nameof(y)); Require(argMax, (long)rows * units, nameof(argMax));
        var sx = Cpu(x, nameof(x)).Span; var sy = Cpu(y, nameof(y)).Span; var sa = Cpu(argMax, nameof(argMax)).Span;
        for (int i = 0; i < rows * units; i++)
        {
            var group = sx.Slice(i * pieces, pieces);
            int best = TensorPrimitives.IndexOfMax(group);
            sy[i] = group[best];
            sa[i] = best;
        }
    }

    public void MaxoutBackward(DeviceBuffer<float> gradOutput, DeviceBuffer<int> argMax, int rows, int units, int pieces,
        DeviceBuffer<float> gradInput, bool accumulate)
    {
        Require(gradOutput, (long)rows * units, nameof(gradOutput)); Require(gradInput, (long)rows * units * pieces, nameof(gradInput));
        var dy = Cpu(gradOutput, nameof(gradOutput)).Span; var sa = Cpu(argMax, nameof(argMax)).Span; var dx = Cpu(gradInput, nameof(gradInput)).Span;
        for (int i = 0; i < rows * units; i++)
            for (int k = 0; k < pieces; k++)
            {
                float v = k == sa[i] ? dy[i] : 0f;
                dx[i * pieces + k] = accumulate ? dx[i * pieces + k] + v : v;
            }
    }
}
