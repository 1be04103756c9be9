using GpuNet.Backends;
using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    [Theory]
    [InlineData(1, 1, 0, 0)]
    [InlineData(5, 7, 3, 0)]
    [InlineData(11, 37, 4, 2)]
    public void GatherRowsAssemblesABatchFromAnIndexWindow(int count, int cols, int indexOffset, int offset)
    {
        const int sourceRows = 13;
        var source = Check.Uniform(sourceRows * cols, seed: 41);
        var indices = Enumerable.Range(0, indexOffset + count + 2).Select(i => (i * 5 + 2) % sourceRows).ToArray();
        var expected = new float[count * cols];
        for (int i = 0; i < count; i++)
            Array.Copy(source, indices[indexOffset + i] * cols, expected, i * cols, cols);
        var destination = Put(new float[count * cols], offset);
        Backend.GatherRows(Put(source, offset), Put(indices, offset + 1), indexOffset, count, cols, destination);
        Assert.Equal(expected, Get(destination)); // a copy: exact
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(7, 3, 1)]
    [InlineData(31, 5, 2)]
    public void GatherPicksLabelsThroughAnIndexWindow(int count, int indexOffset, int offset)
    {
        var source = Enumerable.Range(0, 17).Select(i => i * 10 + 1).ToArray();
        var indices = Enumerable.Range(0, indexOffset + count).Select(i => (i * 3 + 1) % source.Length).ToArray();
        var expected = Enumerable.Range(0, count).Select(i => source[indices[indexOffset + i]]).ToArray();
        var destination = Put(new int[count], offset);
        Backend.Gather(Put(source, offset + 1), Put(indices, offset), indexOffset, count, destination);
        Check.Equal(expected, Get(destination), "Gather");
    }

    [Theory]
    [InlineData(1, 1, 0, 1, 0, 1, false, 0)]
    [InlineData(5, 7, 3, 13, 6, 3, false, 1)]
    [InlineData(11, 37, 0, 41, 4, 37, true, 2)]
    [InlineData(3, 64, 29, 97, 64, 33, true, 0)]
    public void CopyColumnsMovesABlockBetweenRowsOfDifferentWidths(int rows, int xCols, int xOffset, int yCols, int yOffset, int cols, bool accumulate, int offset)
    {
        var x = Check.Uniform(rows * xCols, seed: 43);
        var y = Check.Uniform(rows * yCols, seed: 44);
        var expected = (float[])y.Clone();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                expected[r * yCols + yOffset + c] = (accumulate ? y[r * yCols + yOffset + c] : 0f) + x[r * xCols + xOffset + c];
        var destination = Put(y, offset);
        Backend.CopyColumns(Put(x, offset + 1), xCols, xOffset, destination, yCols, yOffset, rows, cols, accumulate);
        Assert.Equal(expected, Get(destination)); // a copy or one float addition: exact, and the other columns untouched
    }

    [Fact]
    public void CopyColumnsRefusesABlockPastARow()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Backend.CopyColumns(Put(new float[8]), 4, 2, Put(new float[8]), 4, 0, 2, 3, false));
        Assert.Contains("3 columns from offset 2 of rows 4 wide", e.Message);
    }

    [Fact]
    public void GatherRowsRejectsAnIndexWindowPastTheEnd()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Backend.GatherRows(Alloc<float>(12), Alloc<int>(5), 3, 4, 3, Alloc<float>(12)));
        Assert.Equal("indices", ex.ParamName);
    }

    // ---- random -----------------------------------------------------------------------------

    [Fact]
    public void RandomUniformDrawsThePhiloxNumbersInRange()
    {
        const int n = 4099;
        const float low = -0.5f, high = 1.5f;
        var buffer = Put(new float[n], 3);
        Backend.RandomUniform(buffer, low, high, seed: 1234, stream: 7);
        var values = Get(buffer);

        Assert.All(values, v => Assert.InRange(v, low, high));
        Assert.All(values, v => Assert.True(v < high, "uniform draws lie in [low, high)"));
        // the mean of n uniforms has standard deviation (high - low) / sqrt(12 n) ~ 0.009: allow 5 of them
        Assert.InRange(values.Average(), 0.5 - 0.045, 0.5 + 0.045);
        // element i is Philox(counter (i, stream), key seed): low + (high - low) * u, one rounding in float
        var expected = Enumerable.Range(0, n).Select(i => Reference.Uniform(i, low, high, 1234, 7)).ToArray();
        Check.Close(expected, values, 1e-6, 0, "uniform vs Philox reference");
    }

    [Fact]
    public void RandomNormalHasTheRequestedMeanAndStandardDeviation()
    {
        const int n = 4099;
        const float mean = 2f, stddev = 0.5f;
        var buffer = Alloc<float>(n);
        Backend.RandomNormal(buffer, mean, stddev, seed: 99, stream: 1);
        var values = Get(buffer);

        double sampleMean = values.Average();
        double sampleStd = Math.Sqrt(values.Sum(v => (v - sampleMean) * (v - sampleMean)) / (n - 1));
        // sampling error: sd(mean) = stddev / sqrt(n) ~ 0.0078, sd(std) ~ stddev / sqrt(2 n) ~ 0.0055; 5 of each
        Assert.InRange(sampleMean, mean - 0.04, mean + 0.04);
        Assert.InRange(sampleStd, stddev - 0.028, stddev + 0.028);
        // Box-Muller in float (log, sqrt, cos of a few ulp each) against the same formula in double
        var expected = Enumerable.Range(0, n).Select(i => Reference.Normal(i, mean, stddev, 99, 1)).ToArray();
        Check.Close(expected, values, 1e-5 * stddev, 1e-4, "normal vs Philox reference");
    }

    [Fact]
    public void RandomFillsAreReproducibleAndDependOnSeedAndStream()
    {
        float[] Draw(ulong seed, uint stream)
        {
            var buffer = Alloc<float>(64);
            Backend.RandomUniform(buffer, 0f, 1f, seed, stream);
            return Get(buffer);
        }
        Assert.Equal(Draw(5, 0), Draw(5, 0));
        Assert.NotEqual(Draw(5, 0), Draw(6, 0));
        Assert.NotEqual(Draw(5, 0), Draw(5, 1));
        Assert.NotEqual(Draw(5, 0), Draw(5UL | (1UL << 32), 0)); // the high half of the seed is key word 1
    }

    [Fact]
    public void RandomFillsMatchTheCpuBackend()
    {
        const int n = 1031;
        using var cpu = new CpuBackend();
        float[] Uniform(IBackend backend)
        {
            using var buffer = backend.Allocate<float>(n);
            backend.RandomUniform(buffer, -3f, 5f, 0xDEADBEEF12345UL, 3);
            var host = new float[n];
            backend.Download(buffer, host);
            return host;
        }
        float[] Normal(IBackend backend)
        {
            using var buffer = backend.Allocate<float>(n);
            backend.RandomNormal(buffer, -1f, 3f, 42, 11);
            var host = new float[n];
            backend.Download(buffer, host);
            return host;
        }
        Check.Close(Uniform(cpu), Uniform(Backend), 1e-6, 0, "uniform: this backend vs CpuBackend");
        Check.Close(Normal(cpu), Normal(Backend), 1e-5, 1e-4, "normal: this backend vs CpuBackend");
    }
}
