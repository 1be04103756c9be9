using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>
/// Element-wise activation kernels, forward and backward, for every <see cref="ActivationKind"/>.
/// </summary>
/// <remarks>
/// The formulas are <see cref="ActivationMath"/>'s own methods (kernel-safe: ILGPU maps their MathF calls to
/// the intrinsics of XMath), so the CPU backend and the kernels share one definition. The kind is a uniform
/// int parameter, so the switch costs one predictable branch per element, and one kernel serves all activations.
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
        y[index] = ActivationMath.Forward((ActivationKind)kind, alpha, x[index]);

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
        float g = gradOutput[index] * ActivationMath.Derivative((ActivationKind)kind, alpha, x[index], y[index]);
        gradInput[index] = accumulate != 0 ? gradInput[index] + g : g;
    }
}
