using GpuNet.Backends;
using Xunit;
using static GpuNet.Backends.ElementOps;

namespace GpuNet.Kernels.Tests;

// The thin core's operator-driven primitives and the row gather/scatter.
public abstract partial class BackendContractTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(37, 3)]
    public void GenerateWritesTheOperatorsValueForEachIndex(int count, int offset)
    {
        var y = Put(new float[count], offset);
        Backend.Generate(new Uniform(7, 42, -2f, 4f), y, count);
        var expected = Enumerable.Range(0, count).Select(i => RandomMath.Uniform(i, 7, 42, -2f, 4f)).ToArray();
        Assert.Equal(expected, Get(y)); // the same shared formula: exact
        Backend.Generate(new Constant(2.5f), y, count - 1);
        var after = Get(y);
        Assert.All(after[..(count - 1)], v => Assert.Equal(2.5f, v));
        Assert.Equal(expected[^1], after[^1]); // only count - 1 elements written
    }

    [Theory]
    [InlineData(1, 0, false)]
    [InlineData(29, 2, false)]
    [InlineData(29, 2, true)]
    public void MapAppliesTheOperatorAndCanAccumulate(int count, int offset, bool accumulate)
    {
        var x = Check.Uniform(count, seed: count, low: -3f, high: 3f);
        var y0 = Check.Uniform(count, seed: count + 1);
        var op = new Activation(ActivationKind.Elu, 0.7f);
        var y = Put(y0, offset);
        Backend.Map(op, Put(x, offset + 1), y, count, accumulate);
        var expected = x.Select((v, i) => (accumulate ? y0[i] : 0f) + ActivationMath.Forward(ActivationKind.Elu, 0.7f, v)).ToArray();
        Check.Close(expected, Get(y), 0, 0, "Map(Elu)");
    }

    [Fact]
    public void MapMayWorkInPlace()
    {
        var data = Check.Uniform(17, seed: 3);
        var x = Put(data, 2);
        Backend.Map(new Affine(2f, 1f), x, x, 17);
        Check.Close(data.Select(v => v * 2f + 1f).ToArray(), Get(x), 0, 0, "Map in place");
    }

    [Theory]
    [InlineData(Broadcast.None, 1, 1)]
    [InlineData(Broadcast.None, 3, 7)]
    [InlineData(Broadcast.Rows, 5, 3)]
    [InlineData(Broadcast.Columns, 5, 3)]
    [InlineData(Broadcast.Scalar, 2, 11)]
    public void ZipBroadcastsTheSecondOperand(Broadcast broadcast, int rows, int cols)
    {
        int n = rows * cols;
        var a = Check.Uniform(n, seed: 1);
        var bLength = (int)ElementOps.BroadcastLength(broadcast, rows, cols);
        var bValues = Check.Uniform(bLength, seed: 2, low: 0.5f, high: 2f);
        var y0 = Check.Uniform(n, seed: 3);
        foreach (bool accumulate in new[] { false, true })
        {
            var y = Put(y0, 1);
            Backend.Zip(new Divide(), Put(a, 2), Put(bValues, 3), y, rows, cols, broadcast, accumulate);
            var expected = new float[n];
            for (int i = 0; i < n; i++)
            {
                int r = i / cols, c = i % cols;
                float bv = broadcast switch { Broadcast.Rows => bValues[c], Broadcast.Columns => bValues[r], Broadcast.Scalar => bValues[0], _ => bValues[i] };
                expected[i] = (accumulate ? y0[i] : 0f) + a[i] / bv;
            }
            Check.Close(expected, Get(y), 0, 0, $"Zip(Divide, {broadcast}, accumulate {accumulate})");
        }
    }

    [Fact]
    public void ZipRejectsASecondOperandTooShortForItsBroadcast()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Backend.Zip(new Add(), Alloc<float>(12), Alloc<float>(3), Alloc<float>(12), 3, 4, Broadcast.Rows, false));
        Assert.Equal("b", ex.ParamName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(41)]
    public void CountAddsTheNumberOfMatchingPairs(int count)
    {
        var scores = Check.Uniform(count, seed: count, low: 0f, high: 1f);
        var targets = Check.Uniform(count, seed: count + 5, low: 0f, high: 1f);
        var total = Put([3]);
        Backend.Count(new MultiLabelHit(0.5f), Put(scores, 1), Put(targets, 2), count, total);
        int expected = 3 + Enumerable.Range(0, count).Count(i => (scores[i] > 0.5f) == (targets[i] > 0.5f));
        Assert.Equal(expected, Get(total)[0]);
    }

    [Fact]
    public void TakeAlongRowsReadsOneColumnPerRowAndNaNOutsideTheRow()
    {
        int rows = 5, cols = 3;
        var x = Check.Uniform(rows * cols, seed: 9);
        int[] indices = [2, 0, 1, 3, -1];
        var y = Put(new float[rows], 1);
        Backend.TakeAlongRows(Put(x, 2), Put(indices, 1), rows, cols, y);
        var got = Get(y);
        for (int r = 0; r < 3; r++) Assert.Equal(x[r * cols + indices[r]], got[r]);
        Assert.True(float.IsNaN(got[3]) && float.IsNaN(got[4]), "an index outside the row gives NaN");
    }

    [Fact]
    public void PutAlongRowsAddsOneValuePerRowAndSkipsIndicesOutsideTheRow()
    {
        int rows = 4, cols = 7;
        var x0 = Check.Uniform(rows * cols, seed: 4);
        float[] values = [1f, 2f, 3f, 4f];
        int[] indices = [6, 0, 7, -2];
        var x = Put(x0, 3);
        Backend.PutAlongRows(Put(values, 1), Put(indices, 2), rows, cols, x);
        var expected = (float[])x0.Clone();
        expected[0 * cols + 6] += 1f;
        expected[1 * cols + 0] += 2f;
        Assert.Equal(expected, Get(x));
    }
}
