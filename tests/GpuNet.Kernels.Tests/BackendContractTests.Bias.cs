using Xunit;

namespace GpuNet.Kernels.Tests;

public abstract partial class BackendContractTests
{
    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(7, 13, 0)]
    [InlineData(13, 7, 2)]
    [InlineData(3, 37, 1)]
    public void BiasAddAddsTheBiasToEveryRow(int rows, int cols, int offset)
    {
        var x = Check.Uniform(rows * cols, seed: 11);
        var bias = Check.Uniform(cols, seed: 12);
        var expected = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                expected[r * cols + c] = (double)x[r * cols + c] + bias[c];
        var dx = Put(x, offset);
        Backend.BiasAdd(dx, Put(bias, offset), rows, cols);
        // one float addition: half an ulp of |result|, at most ~1.2e-7 for values below 2
        Check.Close(expected, Get(dx), 1e-7, 1e-6, $"BiasAdd {rows}x{cols}");
    }

    [Theory]
    [InlineData(1, 1, false, 0)]
    [InlineData(7, 13, false, 0)]
    [InlineData(13, 7, true, 2)]
    [InlineData(37, 3, true, 1)]
    [InlineData(3, 37, false, 3)]
    public void ColumnSumSumsEachColumn(int rows, int cols, bool accumulate, int offset)
    {
        var x = Check.Uniform(rows * cols, seed: 13);
        var initial = Check.Uniform(cols, seed: 14);
        var expected = new double[cols];
        for (int c = 0; c < cols; c++)
        {
            expected[c] = accumulate ? initial[c] : 0;
            for (int r = 0; r < rows; r++) expected[c] += x[r * cols + c];
        }
        var result = Put(initial, offset);
        Backend.ColumnSum(Put(x, offset + 1), rows, cols, result, accumulate);
        // a sum of R terms in [-1, 1): rounding grows like sqrt(R)
        Check.Close(expected, Get(result), 1e-6 * Math.Sqrt(rows + 1), 1e-6, $"ColumnSum {rows}x{cols} accumulate={accumulate}");
    }

    [Fact]
    public void SgdUpdateStepsTheFirstCountParametersAgainstTheGradient()
    {
        const int count = 13;
        const float learningRate = 0.1f;
        var parameters = Check.Uniform(17, seed: 15);
        var gradients = Check.Uniform(17, seed: 16);
        var expected = new double[17];
        for (int i = 0; i < 17; i++)
            expected[i] = i < count ? parameters[i] - (double)learningRate * gradients[i] : parameters[i];
        var dp = Put(parameters, 3);
        Backend.SgdUpdate(dp, Put(gradients, 2), count, learningRate);
        Check.Close(expected, Get(dp), 1e-7, 1e-6, "SGD p -= lr * g (elements past count untouched)");
    }
}
