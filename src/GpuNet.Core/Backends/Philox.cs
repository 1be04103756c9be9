using System.Runtime.CompilerServices;

namespace GpuNet.Backends;

/// <summary>Four 32-bit random words produced by one <see cref="Philox"/> call.</summary>
public struct PhiloxBlock
{
    public uint X, Y, Z, W;
}

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
/// counter-based generator. Output depends only on (counter, key), so element i of a buffer can be
/// drawn independently by any thread on any device, and the CPU and GPU backends draw the same numbers.
/// </summary>
/// <remarks>Pure integer arithmetic with no arrays or managed calls, so ILGPU kernels call it directly.</remarks>
public static class Philox
{
    private const uint M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
    private const uint W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;

    /// <summary>Ten Philox rounds over counter (c0..c3) with key (k0, k1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PhiloxBlock Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            uint n0 = hi1 ^ c1 ^ k0;
            uint n2 = hi0 ^ c3 ^ k1;
            c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
            k0 += W0; k1 += W1;
        }
        return new PhiloxBlock { X = c0, Y = c1, Z = c2, W = c3 };
    }

    /// <summary>The block for element <paramref name="index"/> of stream <paramref name="stream"/> under <paramref name="seed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PhiloxBlock ForElement(int index, uint stream, ulong seed) =>
        Generate((uint)index, stream, 0u, 0u, (uint)seed, (uint)(seed >> 32));

    /// <summary>
    /// The block for element <paramref name="index"/> at training step <paramref name="step"/>: per-step
    /// randomness (dropout masks, augmentations) that never repeats across steps. <paramref name="purpose"/>
    /// separates independent uses within one step (each dropout layer, the augmenter).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PhiloxBlock ForStep(int index, ulong step, uint purpose, ulong seed) =>
        Generate((uint)index, (uint)step, (uint)(step >> 32), purpose, (uint)seed, (uint)(seed >> 32));

    /// <summary>Maps a random word to a float in [0, 1) using its top 24 bits (exact in float32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToUnitFloat(uint bits) => (bits >> 8) * (1.0f / 16777216.0f);

    /// <summary>Maps a random word to a float in (0, 1]: safe to take the logarithm of.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToUnitFloatNonZero(uint bits) => ((bits >> 8) + 1u) * (1.0f / 16777216.0f);
}

/// <summary>
/// The random draws built on <see cref="Philox"/>, written once for the CPU backend, the ILGPU kernels and
/// <see cref="AugmentMath"/>, so every backend draws the same numbers from the same (counter, key).
/// </summary>
/// <remarks>Kernel-safe, as Philox: float arithmetic and MathF (which ILGPU maps to its intrinsics).</remarks>
public static class RandomMath
{
    /// <summary>Element <paramref name="index"/> of a uniform fill: low + scale * U[0, 1) from the block's X word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(int index, uint stream, ulong seed, float low, float scale) =>
        low + scale * Philox.ToUnitFloat(Philox.ForElement(index, stream, seed).X);

    /// <summary>
    /// mean + stddev * sqrt(-2 ln u1) * cos(2 pi u2) (Box-Muller), u1 in (0, 1] from the block's X word and
    /// u2 in [0, 1) from its Y word.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Normal(PhiloxBlock block, float mean, float stddev)
    {
        float u1 = Philox.ToUnitFloatNonZero(block.X), u2 = Philox.ToUnitFloat(block.Y);
        return mean + stddev * MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * MathF.PI * u2);
    }

    /// <summary>
    /// Inverted dropout's factor for element <paramref name="index"/> at a training step: keepScale
    /// (1 / (1 - rate), computed once on the host) when its draw u is at least rate, else 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DropoutFactor(int index, ulong step, uint purpose, ulong seed, float rate, float keepScale) =>
        Philox.ToUnitFloat(Philox.ForStep(index, step, purpose, seed).X) >= rate ? keepScale : 0f;
}
