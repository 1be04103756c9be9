using System.Runtime.CompilerServices;
using GpuNet.Backends;

namespace GpuNet.Kernels;

/// <summary>
/// The row weights of the fused losses, accuracy counts and batch normalization (see the remarks of
/// <c>IBackend.Fused.cs</c>; the host checks are <see cref="RowWeights"/>'s) as the kernels read them: a 2 x R
/// view, row 0 the loss weights and row 1 the gradient weights, passed with an int flag that is 0 when the call
/// has no row weights (the view is then a one-element dummy that is never read).
/// </summary>
/// <remarks>
/// <para>Without row weights every row has loss weight 1 and gradient weight 1, and the helpers (with
/// <see cref="LossMath.Weighted"/> for a row's loss) return exactly what an unweighted kernel computes
/// (1 x v == v and gradScale x 1 == gradScale for every float).</para>
/// <para>A row whose loss weight is 0 is padding: its loss, count and statistic terms are selected away, never
/// multiplied by 0, so a NaN or an infinity in a padding row cannot reach a sum.</para>
/// <para>Kernel-safe: float arithmetic and view reads only.</para>
/// </remarks>
internal static class KernelRowWeights
{
    /// <summary>The loss weight of <paramref name="row"/>: rowWeights[row], or 1 without row weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LossWeight(FloatView rowWeights, int weighted, int row) => weighted != 0 ? rowWeights[row] : 1f;

    /// <summary>Whether <paramref name="row"/> is a real row (loss weight not 0): always without row weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsReal(FloatView rowWeights, int weighted, int row) => weighted == 0 || rowWeights[row] != 0f;

    /// <summary>
    /// The gradient scale of <paramref name="row"/> of <paramref name="rows"/>: gradScale x rowWeights[rows + row],
    /// or gradScale without row weights.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GradientScale(FloatView rowWeights, int weighted, int rows, int row, float gradScale) =>
        weighted != 0 ? gradScale * rowWeights[rows + row] : gradScale;

    /// <summary>A row's gradient: 0 for a padding row (loss weight 0) whatever the gradient, else the gradient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gradient(float lossWeight, float gradient) => LossMath.Masked(gradient, lossWeight);

    /// <summary>
    /// The term of a weighted batch statistic: rowWeights[rows + row] x value for a real row, 0 for a padding row
    /// (call only with row weights).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float StatisticTerm(FloatView rowWeights, int rows, int row, float value) =>
        LayerMath.StatisticTerm(rowWeights[row], rowWeights[rows + row], value);
}
