using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests;

public class DatasetTests
{
    private static Dataset Sorted(int n) =>
        new("sorted", Enumerable.Range(0, n).Select(i => (float)i).ToArray(), Enumerable.Range(0, n).Select(i => i < n / 2 ? 0 : 1).ToArray(), 1, 2);

    [Fact]
    public void SplitShufflesBeforeHoldingOut()
    {
        // Keras takes the last rows: on data sorted by label the validation set would be all class 1.
        var (kept, held) = Sorted(100).Split(0.2, seed: 3);
        Assert.Equal(80, kept.Count);
        Assert.Equal(20, held.Count);
        Assert.Contains(0, held.Labels);
        Assert.Contains(1, held.Labels);
        // a partition: every sample lands in exactly one part
        var all = kept.Features.Concat(held.Features).OrderBy(v => v).ToArray();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (float)i), all);
    }

    [Fact]
    public void SplitIsReproducibleFromItsSeed()
    {
        var a = Sorted(50).Split(0.2, 9).HeldOut.Features;
        var b = Sorted(50).Split(0.2, 9).HeldOut.Features;
        var c = Sorted(50).Split(0.2, 10).HeldOut.Features;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void SplitRejectsFractionsOutsideTheOpenInterval(double fraction)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Sorted(10).Split(fraction, 1));
        Assert.Contains("(0, 1)", e.Message);
    }

    [Fact]
    public void LabelsOutsideTheClassRangeAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new Dataset("d", new float[2], [0, 5], 1, 3));
        Assert.Contains("label 5", e.Message);
    }
}
