using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>Float comparisons with a stated tolerance: |actual - expected| &lt;= atol + rtol * |expected|.</summary>
public static class Check
{
    /// <summary>Fails on the first element out of tolerance, naming its index, value and expectation.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}.");
        int first = -1, mismatches = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i]) && float.IsNaN(actual[i])) continue;
            double diff = Math.Abs(actual[i] - expected[i]);
            if (diff <= atol + rtol * Math.Abs(expected[i])) continue; // false for NaN too
            if (first < 0) first = i;
            mismatches++;
        }
        if (first >= 0)
            Assert.Fail($"{what}: {mismatches} of {expected.Length} values out of tolerance (atol {atol:G3}, rtol {rtol:G3}). " +
                $"First at index {first}: got {actual[first]:R}, expected {expected[first]:R} (|diff| {Math.Abs(actual[first] - expected[first]):G3}).");
    }

    /// <summary><see cref="Close(ReadOnlySpan{double}, ReadOnlySpan{float}, double, double, string)"/> for float expectations.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        Close(e, actual, atol, rtol, what);
    }

    /// <summary>Exact equality of integer results, naming the first differing index.</summary>
    public static void Equal(ReadOnlySpan<int> expected, ReadOnlySpan<int> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
                Assert.Fail($"{what}: first difference at index {i}: got {actual[i]}, expected {expected[i]}.");
    }

    /// <summary>Deterministic uniform test data in [low, high).</summary>
    public static float[] Uniform(int count, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var data = new float[count];
        for (int i = 0; i < count; i++) data[i] = low + (high - low) * random.NextSingle();
        return data;
    }
}
