using System.Runtime.CompilerServices;

namespace GpuNet.Backends;

/// <summary>
/// The per-element loss formulas of the element-wise losses, written once for the CPU backend's loops and
/// the ILGPU loss kernels (kernel-safe: float arithmetic and MathF only), so both backends round alike.
/// </summary>
/// <remarks>The row-wise softmax cross-entropy is not here: its CPU and kernel forms reduce differently.</remarks>
public static class LossMath
{
    /// <summary>
    /// -(t log s + (1 - t) log(1 - s)) with s = sigmoid(x), in its logits form max(x, 0) - x t + log(1 + e^-|x|):
    /// finite for any finite x. Its gradient with respect to x is s - t.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SigmoidCrossEntropy(float x, float t) =>
        MathF.Max(x, 0f) - x * t + ActivationMath.Log1p(MathF.Exp(-MathF.Abs(x)));

    /// <summary>clip(p, eps, 1 - eps) as Math.Clamp: a NaN passes through (and keeps the loss NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Clip(float p, float epsilon)
    {
        float high = 1f - epsilon;
        return p < epsilon ? epsilon : p > high ? high : p;
    }

    /// <summary>-t log pc, for a clipped probability pc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float CrossEntropy(float pc, float t) => -(t * MathF.Log(pc));

    /// <summary>d/dpc of <see cref="CrossEntropy"/>, times scale: -scale t / pc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float CrossEntropyGradient(float pc, float t, float scale) => -scale * t / pc;

    /// <summary>-(t log pc + (1 - t) log(1 - pc)), for a clipped probability pc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BinaryCrossEntropy(float pc, float t) => -(t * MathF.Log(pc) + (1f - t) * MathF.Log(1f - pc));

    /// <summary>d/dpc of <see cref="BinaryCrossEntropy"/>, times scale: scale (pc - t) / (pc (1 - pc)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BinaryCrossEntropyGradient(float pc, float t, float scale) => scale * (pc - t) / (pc * (1f - pc));

    /// <summary>d/dx of the sigmoid cross-entropy from logits, times scale: scale (s - t) with s = sigmoid(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SigmoidCrossEntropyGradient(float s, float t, float scale) => scale * (s - t);

    /// <summary>Keras' binary accuracy for one (sample, label) pair: the score's side of the threshold is the target's side of 0.5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MultiLabelHit(float score, float target, float threshold) => score > threshold == target > 0.5f;

    /// <summary>d/dp of the squared error d^2 (d = p - t), times scale: scale 2 d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredErrorGradient(float d, float scale) => scale * 2f * d;

    /// <summary>
    /// A row's weighted contribution: weight x value, or exactly 0 for a padding row (weight 0), whatever its value (NaN
    /// included), so padding never reaches a sum (see the row weights of IBackend's fused operations).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Weighted(float value, float weight) => weight == 0f ? 0f : weight * value;

    /// <summary>A row's value, or exactly 0 in a padding row (loss weight 0), whatever the value (NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Masked(float value, float lossWeight) => lossWeight == 0f ? 0f : value;
}
