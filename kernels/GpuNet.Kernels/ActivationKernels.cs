using GpuNet.Backends;
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>
/// Element-wise activation kernels, forward and backward, for every <see cref="ActivationKind"/>.
/// </summary>
/// <remarks>
/// The formulas are those of <see cref="ActivationMath"/> (the reference), rewritten with
/// <see cref="XMath"/> so they compile for every ILGPU backend. The kind is a uniform int parameter,
/// so the switch costs one predictable branch per element, and one kernel serves all activations.
/// </remarks>
public static class ActivationKernels
{
    /// <summary>y[i] = f(x[i]) for i in [0, count). y may alias x.</summary>
    /// <param name="index">Element index; launch with extent count.</param>
    /// <param name="x">At least count pre-activations.</param>
    /// <param name="y">At least count outputs.</param>
    /// <param name="kind">An <see cref="ActivationKind"/> as int.</param>
    /// <param name="alpha">LeakyRelu slope / Elu scale; ignored by the others.</param>
    public static void ActivationForwardKernel(Index1D index, FloatView x, FloatView y, int kind, float alpha) =>
        y[index] = Forward(kind, alpha, x[index]);

    /// <summary>
    /// gradInput[i] = gradOutput[i] * f'(x[i]) (added to gradInput[i] when accumulate != 0).
    /// </summary>
    /// <param name="index">Element index; launch with extent count.</param>
    /// <param name="x">Pre-activations.</param>
    /// <param name="y">Outputs f(x) (sigmoid and tanh differentiate through y).</param>
    /// <param name="gradOutput">dL/dy.</param>
    /// <param name="gradInput">dL/dx, written or accumulated.</param>
    /// <param name="kind">An <see cref="ActivationKind"/> as int; never Step (the host rejects it).</param>
    /// <param name="alpha">LeakyRelu slope / Elu scale.</param>
    /// <param name="accumulate">Non-zero: add to gradInput instead of overwriting it.</param>
    public static void ActivationBackwardKernel(Index1D index, FloatView x, FloatView y, FloatView gradOutput,
        FloatView gradInput, int kind, float alpha, int accumulate)
    {
        float g = gradOutput[index] * Derivative(kind, alpha, x[index], y[index]);
        gradInput[index] = accumulate != 0 ? gradInput[index] + g : g;
    }

    /// <summary>f(x) for the activation <paramref name="kind"/>.</summary>
    public static float Forward(int kind, float alpha, float x)
    {
        switch (kind)
        {
            case (int)ActivationKind.Step: return x > 0f ? 1f : 0f;
            case (int)ActivationKind.Sigmoid: return Sigmoid(x);
            case (int)ActivationKind.Tanh: return XMath.Tanh(x);
            case (int)ActivationKind.Relu: return x > 0f ? x : 0f;
            case (int)ActivationKind.LeakyRelu: return x > 0f ? x : alpha * x;
            case (int)ActivationKind.Elu: return x > 0f ? x : alpha * (XMath.Exp(x) - 1f);
            case (int)ActivationKind.Swish: return x * Sigmoid(x);
            // max(x, 0) + log1p(exp(-|x|)): no overflow for large x, no precision loss for very negative x
            case (int)ActivationKind.Softplus: return XMath.Max(x, 0f) + Log1p(XMath.Exp(-XMath.Abs(x)));
            case (int)ActivationKind.Gelu: return x * NormalCdf(x);
            default: return x; // Linear
        }
    }

    /// <summary>f'(x), given x and y = f(x). Step is rejected on the host before launch.</summary>
    public static float Derivative(int kind, float alpha, float x, float y)
    {
        switch (kind)
        {
            case (int)ActivationKind.Sigmoid: return y * (1f - y);
            case (int)ActivationKind.Tanh: return 1f - y * y;
            case (int)ActivationKind.Relu: return x > 0f ? 1f : 0f;
            case (int)ActivationKind.LeakyRelu: return x > 0f ? 1f : alpha;
            case (int)ActivationKind.Elu: return x > 0f ? 1f : alpha * XMath.Exp(x);
            case (int)ActivationKind.Swish:
            {
                float s = Sigmoid(x);
                return s + x * s * (1f - s);
            }
            case (int)ActivationKind.Softplus: return Sigmoid(x);
            // Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
            case (int)ActivationKind.Gelu: return NormalCdf(x) + x * 0.3989422804014327f * XMath.Exp(-0.5f * x * x);
            default: return 1f; // Linear
        }
    }

    /// <summary>1 / (1 + e^-x), evaluated so that neither branch overflows.</summary>
    public static float Sigmoid(float x)
    {
        if (x >= 0f) return 1f / (1f + XMath.Exp(-x));
        float e = XMath.Exp(x);
        return e / (1f + e);
    }

    /// <summary>Phi(x) = (1 + erf(x / sqrt 2)) / 2.</summary>
    public static float NormalCdf(float x) => 0.5f * (1f + Erf(x * 0.70710678118654752f));

    /// <summary>erf(x) by Abramowitz and Stegun 7.1.26, as <see cref="ActivationMath.Erf"/>.</summary>
    public static float Erf(float x)
    {
        float sign = x < 0f ? -1f : 1f;
        float ax = XMath.Abs(x);
        float t = 1f / (1f + 0.3275911f * ax);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        return sign * (1f - poly * XMath.Exp(-ax * ax));
    }

    /// <summary>
    /// log(1 + u) accurate for small u in float32 (Goldberg's trick: the rounding error of 1 + u is
    /// divided out), where the reference uses double precision.
    /// </summary>
    public static float Log1p(float u)
    {
        float w = 1f + u;
        if (w == 1f) return u;
        return XMath.Log(w) * u / (w - 1f);
    }
}
