using GpuNet.Backends;
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>
/// Random fills from the counter-based <see cref="Philox"/> generator: element i uses counter
/// (i, stream) and key seed, through <see cref="RandomMath"/> as <see cref="CpuBackend"/> does, so both
/// draw the same numbers.
/// </summary>
public static class RandomKernels
{
    /// <summary>buffer[i] = low + scale * U[0, 1), scale = high - low.</summary>
    /// <param name="index">Element index; launch with extent buffer length.</param>
    public static void RandomUniformKernel(Index1D index, FloatView buffer, float low, float scale, ulong seed, uint stream) =>
        buffer[index] = RandomMath.Uniform(index, stream, seed, low, scale);

    /// <summary>
    /// buffer[i] = mean + stddev * sqrt(-2 ln u1) * cos(2 pi u2) (Box-Muller), u1 in (0, 1] from the
    /// block's X word and u2 in [0, 1) from its Y word.
    /// </summary>
    /// <param name="index">Element index; launch with extent buffer length.</param>
    public static void RandomNormalKernel(Index1D index, FloatView buffer, float mean, float stddev, ulong seed, uint stream) =>
        buffer[index] = RandomMath.Normal(Philox.ForElement(index, stream, seed), mean, stddev);
}
