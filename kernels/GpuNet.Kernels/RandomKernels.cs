using GpuNet.Backends;
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>
/// Random fills from the counter-based <see cref="Philox"/> generator: element i uses counter
/// (i, stream) and key seed, exactly as <see cref="CpuBackend"/> does, so both draw the same numbers.
/// </summary>
public static class RandomKernels
{
    // Folded by the C# compiler into one float constant, as in CpuBackend's 2f * MathF.PI * u2.
    private const float TwoPi = 2f * MathF.PI;

    /// <summary>buffer[i] = low + scale * U[0, 1), scale = high - low.</summary>
    /// <param name="index">Element index; launch with extent buffer length.</param>
    public static void RandomUniformKernel(Index1D index, FloatView buffer, float low, float scale, ulong seed, uint stream) =>
        buffer[index] = low + scale * Philox.ToUnitFloat(Philox.ForElement(index, stream, seed).X);

    /// <summary>
    /// buffer[i] = mean + stddev * sqrt(-2 ln u1) * cos(2 pi u2) (Box-Muller), u1 in (0, 1] from the
    /// block's X word and u2 in [0, 1) from its Y word.
    /// </summary>
    /// <param name="index">Element index; launch with extent buffer length.</param>
    public static void RandomNormalKernel(Index1D index, FloatView buffer, float mean, float stddev, ulong seed, uint stream)
    {
        var block = Philox.ForElement(index, stream, seed);
        float u1 = Philox.ToUnitFloatNonZero(block.X), u2 = Philox.ToUnitFloat(block.Y);
        buffer[index] = mean + stddev * XMath.Sqrt(-2f * XMath.Log(u1)) * XMath.Cos(TwoPi * u2);
    }
}
