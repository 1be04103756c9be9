using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Reductions of a vector to one value.</summary>
public static class ReductionKernels
{
    /// <summary>Threads in the single group of <see cref="SumIntoKernel"/>.</summary>
    public const int GroupSize = 256;

    /// <summary>target[0] += sum of values[0 .. count).</summary>
    /// <param name="values">At least count values (e.g. per-row losses).</param>
    /// <param name="count">Number of values to sum.</param>
    /// <param name="target">target[0] accumulates the sum.</param>
    /// <remarks>
    /// Launch one group of <see cref="GroupSize"/> threads: each sums a strided slice, then a tree in
    /// shared memory combines the partial sums. The summation order is fixed, so the result is
    /// deterministic, unlike atomic adds. (It also avoids float atomics, which on ILGPU's CPU
    /// accelerator spin forever once the target is NaN: their compare-exchange loop compares floats.)
    /// </remarks>
    public static void SumIntoKernel(FloatView values, int count, FloatView target)
    {
        var partial = SharedMemory.Allocate<float>(GroupSize);
        int t = Group.IdxX;
        float sum = 0f;
        for (int i = t; i < count; i += GroupSize)
            sum += values[i];
        partial[t] = sum;
        Group.Barrier();
        for (int stride = GroupSize / 2; stride > 0; stride >>= 1)
        {
            if (t < stride) partial[t] += partial[t + stride];
            Group.Barrier();
        }
        if (t == 0) target[0] += partial[0];
    }
}
