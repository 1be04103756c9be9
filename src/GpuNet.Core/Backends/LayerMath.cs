using System.Runtime.CompilerServices;

namespace GpuNet.Backends;

/// <summary>
/// The per-element formulas of the layer operations (clipping, the L1/L2 gradient, batch normalization),
/// written once for the CPU backend's loops and the ILGPU layer kernels (kernel-safe: float arithmetic and
/// MathF only), so both backends round alike.
/// </summary>
/// <remarks>
/// The column statistics of batch normalization are not here: the CPU sums in double, a kernel in float
/// across a group, so only what follows the sums is shared.
/// </remarks>
public static class LayerMath
{
    /// <summary>v clamped to [-limit, limit]; NaN stays NaN (comparisons, not min/max, which would drop it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ClipByValue(float v, float limit) => v > limit ? limit : v < -limit ? -limit : v;

    /// <summary>d/dw (l1 |w| + l2 w^2) = l1 sign(w) + 2 l2 w, sign(0) = 0 (the subgradient that keeps zeros at zero; MathF.Sign throws on NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float L1L2Gradient(float w, float l1, float l2)
    {
        float sign = w > 0f ? 1f : w < 0f ? -1f : 0f;
        return l1 * sign + 2f * l2 * w;
    }

    /// <summary>A moving average's step: momentum running + (1 - momentum) batch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MovingAverage(float running, float batch, float momentum) => momentum * running + (1 - momentum) * batch;

    /// <summary>Batch normalization with the batch statistics: gamma (x - mean) invStd + beta.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Normalize(float x, float mean, float invStd, float gamma, float beta) => gamma * (x - mean) * invStd + beta;

    /// <summary>Batch normalization with the running statistics: gamma (x - mean) / sqrt(variance + eps) + beta.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float NormalizeInference(float x, float mean, float variance, float epsilon, float gamma, float beta) =>
        gamma * (x - mean) / MathF.Sqrt(variance + epsilon) + beta;

    /// <summary>
    /// dx of batch normalization for one element: k (R dy - dbeta - xhat dgamma), with xhat = (x - mean) invStd,
    /// k = gamma invStd / R, dbeta = sum_r dy and dgamma = sum_r dy xhat over the column.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float NormalizeBackward(float x, float dy, float mean, float invStd, float k, int rows, float sumDy, float sumDyXhat)
    {
        float xhat = (x - mean) * invStd;
        return k * (rows * dy - sumDy - xhat * sumDyXhat);
    }

    /// <summary>
    /// A row's term in a weighted batch statistic (a mean or a variance): the gradient weight times the value, exactly 0 in a
    /// padding row (loss weight 0), whatever the value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float StatisticTerm(float lossWeight, float gradientWeight, float value) => lossWeight == 0f ? 0f : gradientWeight * value;

    /// <summary>
    /// dx of batch normalization for one element of a real row of a weighted batch: gamma invStd (dy - u (dbeta + xhat dgamma)),
    /// with u the row's gradient weight (1 / A over a padded batch's A real rows) and dbeta, dgamma summed over the real rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float NormalizeBackwardWeighted(float x, float dy, float mean, float invStd, float gamma, float u, float sumDy, float sumDyXhat)
    {
        float xhat = (x - mean) * invStd;
        return gamma * invStd * (dy - u * (sumDy + xhat * sumDyXhat));
    }
}
