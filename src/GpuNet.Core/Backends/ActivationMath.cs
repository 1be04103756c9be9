using System.Numerics.Tensors;

namespace GpuNet.Backends;

/// <summary>
/// The activation formulas (see <see cref="ActivationKind"/>), written once: the CPU backend's loops for the
/// activations without a SIMD path, the ILGPU activation and loss kernels, and the definition every backend
/// is tested against.
/// </summary>
/// <remarks>
/// Forward, Derivative, Sigmoid, NormalCdf, Erf and Log1p are kernel-safe: float arithmetic and
/// <see cref="MathF"/> only (ILGPU maps MathF to the same intrinsics as its XMath), no exception, no
/// allocation. The kind is validated on the host before a loop or a launch.
/// </remarks>
public static class ActivationMath
{
    /// <summary>The exception every backend throws when asked for the gradient of the step function.</summary>
    public static NotSupportedException StepHasNoGradient() => new(
        "The step activation has no usable gradient: its derivative is 0 for every x != 0 and undefined at 0, " +
        "so backpropagation would pass no signal. Use 'sigmoid' (its smooth version) or 'relu' in a layer that trains.");

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value outside <see cref="ActivationKind"/>.</summary>
    public static void RequireKnown(ActivationKind kind)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown activation.");
    }

    /// <summary>SELU's alpha and scale (Klambauer et al. 2017; Keras' and PyTorch's constants).</summary>
    public const float SeluAlpha = 1.6732632423543772f, SeluScale = 1.0507009873554805f;

    /// <summary>f(x); an unknown kind gives x (Linear).</summary>
    public static float Forward(ActivationKind kind, float alpha, float x)
    {
        switch (kind)
        {
            case ActivationKind.Step: return x > 0f ? 1f : 0f;
            case ActivationKind.Sigmoid: return Sigmoid(x);
            case ActivationKind.Tanh: return MathF.Tanh(x);
            case ActivationKind.Relu: return x > 0f ? x : 0f;
            case ActivationKind.LeakyRelu: return x > 0f ? x : alpha * x;
            case ActivationKind.Elu: return x > 0f ? x : alpha * (MathF.Exp(x) - 1f);
            case ActivationKind.Swish: return x * Sigmoid(x);
            // max(x, 0) + log1p(exp(-|x|)): no overflow for large x, no loss of precision for very negative x
            case ActivationKind.Softplus: return MathF.Max(x, 0f) + Log1p(MathF.Exp(-MathF.Abs(x)));
            case ActivationKind.Gelu: return x * NormalCdf(x);
            case ActivationKind.Selu: return SeluScale * (x > 0f ? x : SeluAlpha * (MathF.Exp(x) - 1f));
            default: return x; // Linear
        }
    }

    /// <summary>
    /// f'(x), given x and y = f(x). Step gives 0 (its derivative away from 0): backends refuse its gradient
    /// with <see cref="StepHasNoGradient"/> before calling this. An unknown kind gives 1 (Linear).
    /// </summary>
    public static float Derivative(ActivationKind kind, float alpha, float x, float y)
    {
        switch (kind)
        {
            case ActivationKind.Step: return 0f;
            case ActivationKind.Sigmoid: return y * (1f - y);
            case ActivationKind.Tanh: return 1f - y * y;
            case ActivationKind.Relu: return x > 0f ? 1f : 0f;
            case ActivationKind.LeakyRelu: return x > 0f ? 1f : alpha;
            case ActivationKind.Elu: return x > 0f ? 1f : alpha * MathF.Exp(x);
            case ActivationKind.Swish:
            {
                float s = Sigmoid(x);
                return s + x * s * (1f - s);
            }
            case ActivationKind.Softplus: return Sigmoid(x);
            // Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
            case ActivationKind.Gelu: return NormalCdf(x) + x * 0.3989422804014327f * MathF.Exp(-0.5f * x * x);
            case ActivationKind.Selu: return x > 0f ? SeluScale : SeluScale * SeluAlpha * MathF.Exp(x);
            default: return 1f; // Linear
        }
    }

    /// <summary>Max-subtracted softmax of one row (<paramref name="y"/> may be <paramref name="x"/>); returns log(sum exp(x - max)).</summary>
    public static float SoftmaxRow(ReadOnlySpan<float> x, Span<float> y) => SoftmaxRow(x, y, out _);

    /// <summary>Max-subtracted softmax of one row; returns log(sum exp(x - max)) and the row max.</summary>
    public static float SoftmaxRow(ReadOnlySpan<float> x, Span<float> y, out float max)
    {
        // subtract the row max: exp(89) already overflows float32
        max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        TensorPrimitives.Divide(y, sum, y);
        return MathF.Log(sum);
    }

    /// <summary>1 / (1 + e^-x), evaluated so that neither branch overflows.</summary>
    public static float Sigmoid(float x)
    {
        if (x >= 0f) return 1f / (1f + MathF.Exp(-x));
        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    /// <summary>Phi(x) = (1 + erf(x / sqrt 2)) / 2.</summary>
    public static float NormalCdf(float x) => 0.5f * (1f + Erf(x * 0.70710678118654752f));

    /// <summary>
    /// erf(x) by Abramowitz and Stegun 7.1.26 (|error| &lt; 1.5e-7, below float32 resolution near 1).
    /// </summary>
    public static float Erf(float x)
    {
        float sign = x < 0f ? -1f : 1f;
        float ax = MathF.Abs(x);
        float t = 1f / (1f + 0.3275911f * ax);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        return sign * (1f - poly * MathF.Exp(-ax * ax));
    }

    /// <summary>
    /// log(1 + u) accurate for small u in float32 (Goldberg's trick: the rounding error of 1 + u is divided
    /// out), without the double precision a GPU computes slowly.
    /// </summary>
    public static float Log1p(float u)
    {
        float w = 1f + u;
        if (w == 1f) return u;
        return MathF.Log(w) * u / (w - 1f);
    }
}
