using System.Runtime.CompilerServices;

namespace GpuNet.Backends;

/// <summary>
/// How a step-values buffer (a <see cref="DeviceBuffer{T}"/> of int) stores the values that change from one training
/// step to the next: a float as its 32 bits, a 64-bit counter as two ints (low word first). The operations that read
/// such values (<see cref="IBackend.OptimizerUpdate"/>, <see cref="IBackend.Dropout"/>, <see cref="IBackend.AugmentImages"/>)
/// take the buffer and an index into it instead of the values, so a training step launches the same operations with
/// the same arguments every step and only the buffer's contents change.
/// </summary>
/// <remarks>Kernel-safe: both backends decode with these methods (ILGPU maps <see cref="BitConverter.Int32BitsToSingle"/>).</remarks>
public static class StepValueMath
{
    /// <summary>The int that stores <paramref name="value"/> (its bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FromFloat(float value) => BitConverter.SingleToInt32Bits(value);

    /// <summary>The float stored as <paramref name="bits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(int bits) => BitConverter.Int32BitsToSingle(bits);

    /// <summary>The 64-bit counter stored as <paramref name="low"/> and <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Counter(int low, int high) => (uint)low | ((ulong)(uint)high << 32);

    /// <summary>The low word of <paramref name="counter"/>.</summary>
    public static int CounterLow(ulong counter) => unchecked((int)(uint)counter);

    /// <summary>The high word of <paramref name="counter"/>.</summary>
    public static int CounterHigh(ulong counter) => unchecked((int)(uint)(counter >> 32));

    /// <summary>
    /// Checks that <paramref name="values"/> holds <paramref name="width"/> ints from <paramref name="index"/>
    /// (<see cref="ArgumentOutOfRangeException"/> otherwise), the same check on every backend.
    /// </summary>
    public static void Require(DeviceBuffer<int> values, int index, int width, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (index < 0 || (long)index + width > values.Length)
            throw new ArgumentOutOfRangeException(name, index,
                $"The step values at index {index} need {width} ints; the buffer has {values.Length}.");
    }
}
