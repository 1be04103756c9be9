using GpuNet.Backends;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// Naive, obviously right reference operations in double precision: what every backend is compared to.
/// Matrices are row-major; dimension letters as in <see cref="IBackend"/>.
/// </summary>
public static class Reference
{
    /// <summary>C = alpha * op(A) * op(B) + beta * C, with beta == 0 ignoring C (NaN included).</summary>
    public static double[] Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
        float[] a, float[] b, double beta, float[] c)
    {
        var result = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                result[i * n + j] = beta == 0 ? alpha * sum : alpha * sum + beta * c[i * n + j];
            }
        return result;
    }

    /// <summary>Row-wise softmax, max-subtracted (exp(1234) overflows even a double).</summary>
    public static double[] Softmax(float[] x, int rows, int cols)
    {
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++) max = Math.Max(max, x[r * cols + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += y[r * cols + c] = Math.Exp(x[r * cols + c] - max);
            for (int c = 0; c < cols; c++) y[r * cols + c] /= sum;
        }
        return y;
    }

    /// <summary>-log softmax(x[r, :])[label_r] for each row; NaN for a label outside [0, C).</summary>
    public static double[] CrossEntropyPerRow(float[] logits, int[] labels, int rows, int cols)
    {
        var loss = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)cols) { loss[r] = double.NaN; continue; }
            double max = double.NegativeInfinity;
            for (int c = 0; c < cols; c++) max = Math.Max(max, logits[r * cols + c]);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.Exp(logits[r * cols + c] - max);
            loss[r] = Math.Log(sum) - (logits[r * cols + label] - max);
        }
        return loss;
    }

    /// <summary>gradScale * (softmax(x) - onehot(label)), row by row.</summary>
    public static double[] CrossEntropyGradient(float[] logits, int[] labels, int rows, int cols, double gradScale)
    {
        var g = Softmax(logits, rows, cols);
        for (int r = 0; r < rows; r++)
        {
            if ((uint)labels[r] < (uint)cols) g[r * cols + labels[r]] -= 1;
            for (int c = 0; c < cols; c++) g[r * cols + c] *= gradScale;
        }
        return g;
    }

    /// <summary>Index of the first largest element of each row.</summary>
    public static int[] ArgMax(float[] scores, int rows, int cols)
    {
        var result = new int[rows];
        for (int r = 0; r < rows; r++)
            for (int c = 1; c < cols; c++)
                if (scores[r * cols + c] > scores[r * cols + result[r]]) result[r] = c;
        return result;
    }

    /// <summary>f(x) for every activation (the formulas of <see cref="ActivationKind"/>), in double.</summary>
    public static double Activation(ActivationKind kind, double alpha, double x) => kind switch
    {
        ActivationKind.Linear => x,
        ActivationKind.Step => x > 0 ? 1 : 0,
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-x)),
        ActivationKind.Tanh => Math.Tanh(x),
        ActivationKind.Relu => Math.Max(x, 0),
        ActivationKind.LeakyRelu => x > 0 ? x : alpha * x,
        ActivationKind.Elu => x > 0 ? x : alpha * (Math.Exp(x) - 1),
        ActivationKind.Swish => x / (1 + Math.Exp(-x)),
        ActivationKind.Softplus => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))),
        ActivationKind.Gelu => x * 0.5 * (1 + Erf(x / Math.Sqrt(2))),
        ActivationKind.Selu => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.Exp(x) - 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>f'(x) by a central difference of <see cref="Activation"/> in double (step 1e-5: error ~1e-10).</summary>
    public static double ActivationDerivative(ActivationKind kind, double alpha, double x)
    {
        const double h = 1e-5;
        return (Activation(kind, alpha, x + h) - Activation(kind, alpha, x - h)) / (2 * h);
    }

    /// <summary>
    /// erf(x) by its Maclaurin series, 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)), summed until the
    /// terms drop below 1e-17. Cancellation between terms as large as e^(x^2) costs digits: about 1e-13
    /// absolute for |x| &lt;= 3 (the range the tests use). Beyond |x| = 5, erf is +-1 to 1.5e-12.
    /// </summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) >= 5) return Math.Sign(x);
        double sum = 0, term = x; // term = (-1)^n x^(2n+1) / n!
        for (int n = 0; n < 200; n++)
        {
            double contribution = term / (2 * n + 1);
            sum += contribution;
            if (Math.Abs(contribution) < 1e-17) break;
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <summary>The uniform draw of element i: low + (high - low) * (top 24 bits of Philox word X) / 2^24.</summary>
    public static double Uniform(int i, double low, double high, ulong seed, uint stream) =>
        low + (high - low) * ((Philox.ForElement(i, stream, seed).X >> 8) / 16777216.0);

    /// <summary>The normal draw of element i: Box-Muller on u1 = (X' + 1) / 2^24 in (0, 1], u2 = Y' / 2^24.</summary>
    public static double Normal(int i, double mean, double stddev, ulong seed, uint stream)
    {
        var block = Philox.ForElement(i, stream, seed);
        double u1 = ((block.X >> 8) + 1.0) / 16777216.0, u2 = (block.Y >> 8) / 16777216.0;
        return mean + stddev * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    // ---- losses ----------------------------------------------------------------------------

    /// <summary>
    /// Dense softmax cross-entropy per row, -sum_c t[r,c] log softmax(x_r)[c] with log p computed as
    /// (x - max) - log sum e^(x - max), and its gradient gradScale (p sum_c t[r,c] - t).
    /// </summary>
    public static (double[] RowLoss, double[] Gradient) SoftmaxCrossEntropyDense(float[] logits, float[] targets, int rows, int cols, double gradScale)
    {
        var p = Softmax(logits, rows, cols);
        var loss = new double[rows];
        var gradient = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0, targetSum = 0;
            for (int c = 0; c < cols; c++) max = Math.Max(max, logits[r * cols + c]);
            for (int c = 0; c < cols; c++) sum += Math.Exp(logits[r * cols + c] - max);
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                loss[r] -= targets[i] * (logits[i] - max - Math.Log(sum));
                targetSum += targets[i];
            }
            for (int c = 0; c < cols; c++) gradient[r * cols + c] = gradScale * (p[r * cols + c] * targetSum - targets[r * cols + c]);
        }
        return (loss, gradient);
    }

    /// <summary>
    /// Loss and gradient of one element (x a logit for the sigmoid loss, a probability or prediction
    /// otherwise). Probabilities are clipped in float, as the contract's clip(p, eps, 1 - eps) acts on
    /// float inputs; everything after the clip is double.
    /// </summary>
    public static (double Loss, double Gradient) Loss(ElementLoss kind, float x, float t, float epsilon, double gradScale)
    {
        double pc = Math.Clamp(x, epsilon, 1f - epsilon);
        switch (kind)
        {
            case ElementLoss.SigmoidCrossEntropy:
            {
                // -(t log s + (1 - t) log(1 - s)) = log(1 + e^x) - t x = max(x, 0) - t x + log(1 + e^-|x|)
                double s = 1 / (1 + Math.Exp(-(double)x));
                return (Math.Max(x, 0) - (double)x * t + Math.Log(1 + Math.Exp(-Math.Abs((double)x))), gradScale * (s - t));
            }
            case ElementLoss.CrossEntropy:
                return (-t * Math.Log(pc), -gradScale * t / pc);
            case ElementLoss.BinaryCrossEntropy:
                // d/dp -(t log p + (1 - t) log(1 - p)) = -t / p + (1 - t) / (1 - p) = (p - t) / (p (1 - p))
                return (-(t * Math.Log(pc) + (1 - t) * Math.Log(1 - pc)), gradScale * (pc - t) / (pc * (1 - pc)));
            case ElementLoss.SquaredError:
                return (((double)x - t) * ((double)x - t), gradScale * 2 * ((double)x - t));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>
    /// Softmax backward through the explicit Jacobian: dx_j = sum_i dy_i dy_i/dx_j with
    /// dy_i/dx_j = y_i (delta_ij - y_j), row by row (the kernels use the factored form y (dy - dy.y)).
    /// </summary>
    public static double[] SoftmaxBackward(float[] y, float[] gradOutput, int rows, int cols)
    {
        var dx = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
                for (int i = 0; i < cols; i++)
                {
                    double yi = y[r * cols + i], yj = y[r * cols + j];
                    dx[r * cols + j] += gradOutput[r * cols + i] * yi * ((i == j ? 1 : 0) - yj);
                }
        return dx;
    }

    // ---- layers ----------------------------------------------------------------------------

    /// <summary>Whether dropout keeps element i: its Philox uniform, top 24 bits of word X of ForStep(i, step, purpose, seed) over 2^24, is at least rate.</summary>
    public static bool DropoutKeeps(int i, double rate, ulong seed, ulong step, uint purpose) =>
        (Philox.ForStep(i, step, purpose, seed).X >> 8) / 16777216.0 >= rate;

    /// <summary>Batch statistics per column: mean and biased variance (divided by R) over the rows.</summary>
    public static (double[] Mean, double[] Variance) ColumnMoments(double[] x, int rows, int cols)
    {
        var mean = new double[cols];
        var variance = new double[cols];
        for (int c = 0; c < cols; c++)
        {
            for (int r = 0; r < rows; r++) mean[c] += x[r * cols + c];
            mean[c] /= rows;
            for (int r = 0; r < rows; r++) variance[c] += (x[r * cols + c] - mean[c]) * (x[r * cols + c] - mean[c]);
            variance[c] /= rows;
        }
        return (mean, variance);
    }

    /// <summary>Batch normalization in training, y = gamma (x - mean) / sqrt(var + eps) + beta, in double.</summary>
    public static double[] BatchNormForward(double[] x, int rows, int cols, double[] gamma, double[] beta, double epsilon)
    {
        var (mean, variance) = ColumnMoments(x, rows, cols);
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = gamma[c] * (x[r * cols + c] - mean[c]) / Math.Sqrt(variance[c] + epsilon) + beta[c];
        return y;
    }

    /// <summary>
    /// Batch normalization backward in double from the batch statistics of x: with xhat = (x - mean) invStd,
    /// dbeta = sum_r dy, dgamma = sum_r dy xhat, dx = gamma invStd / R (R dy - dbeta - xhat dgamma).
    /// </summary>
    public static (double[] GradInput, double[] GradGamma, double[] GradBeta) BatchNormBackward(double[] x, double[] gradOutput,
        int rows, int cols, double[] gamma, double epsilon)
    {
        var (mean, variance) = ColumnMoments(x, rows, cols);
        var dx = new double[rows * cols];
        var dgamma = new double[cols];
        var dbeta = new double[cols];
        for (int c = 0; c < cols; c++)
        {
            double invStd = 1 / Math.Sqrt(variance[c] + epsilon);
            for (int r = 0; r < rows; r++)
            {
                dbeta[c] += gradOutput[r * cols + c];
                dgamma[c] += gradOutput[r * cols + c] * (x[r * cols + c] - mean[c]) * invStd;
            }
            for (int r = 0; r < rows; r++)
            {
                double xhat = (x[r * cols + c] - mean[c]) * invStd;
                dx[r * cols + c] = gamma[c] * invStd / rows * (rows * gradOutput[r * cols + c] - dbeta[c] - xhat * dgamma[c]);
            }
        }
        return (dx, dgamma, dbeta);
    }

    /// <summary>Maxout: y[i] = max_k x[i pieces + k], argMax[i] = the first k reaching it.</summary>
    public static (float[] Y, int[] ArgMax) Maxout(float[] x, int outputs, int pieces)
    {
        var y = new float[outputs];
        var argMax = new int[outputs];
        for (int i = 0; i < outputs; i++)
        {
            for (int k = 1; k < pieces; k++)
                if (x[i * pieces + k] > x[i * pieces + argMax[i]]) argMax[i] = k;
            y[i] = x[i * pieces + argMax[i]];
        }
        return (y, argMax);
    }
}

/// <summary>The element-wise losses of <see cref="IBackend"/>: sigmoid + binary cross-entropy from logits, the cross-entropies of probabilities, squared error.</summary>
public enum ElementLoss { SigmoidCrossEntropy, CrossEntropy, BinaryCrossEntropy, SquaredError }
