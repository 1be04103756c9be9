using GpuNet.Data.Tabular;
using Xunit;

namespace GpuNet.Tests;

/// <summary>LabelEncoder, Encoding.ToCategorical (Keras' to_categorical) and Encoding.MultiHot (the IMDB setup).</summary>
public class EncodingTests
{
    // ---------------------------------------------------------------- LabelEncoder

    [Fact]
    public void LabelEncoderNumbersTheSortedDistinctClasses()
    {
        var encoder = new LabelEncoder().Fit(["dog", "cat", "ant", "dog", "cat"]);
        Assert.Equal(["ant", "cat", "dog"], encoder.Classes); // sorted, each once
        Assert.Equal([2, 1, 0], new[] { "dog", "cat", "ant" }.Select(encoder.Transform));
    }

    [Fact]
    public void LabelEncoderSortsOrdinally()
    {
        // Ordinal (byte) order, as scikit-learn's np.unique: "Zebra" (Z = 0x5A) before "apple" (a = 0x61),
        // "10" before "9" (they are text, not numbers).
        var encoder = new LabelEncoder().Fit(["apple", "Zebra", "9", "10"]);
        Assert.Equal(["10", "9", "Zebra", "apple"], encoder.Classes);
    }

    [Fact]
    public void LabelEncoderRejectsAnUnknownCategory()
    {
        var encoder = new LabelEncoder().Fit(["no", "yes"]);
        var e = Assert.Throws<ArgumentException>(() => encoder.Transform("maybe"));
        Assert.Contains("'maybe'", e.Message);
        Assert.Contains("no, yes", e.Message);
        Assert.Throws<ArgumentException>(() => encoder.Transform("Yes")); // case matters
    }

    // ---------------------------------------------------------------- ToCategorical

    [Fact]
    public void ToCategoricalMatchesKerasExample()
    {
        // Keras' docstring: to_categorical([0, 1, 2, 3], num_classes=4) is the 4 x 4 identity.
        var a = Encoding.ToCategorical([0, 1, 2, 3], 4);
        Assert.Equal(
        [
            1f, 0f, 0f, 0f,
            0f, 1f, 0f, 0f,
            0f, 0f, 1f, 0f,
            0f, 0f, 0f, 1f,
        ], a);
    }

    [Fact]
    public void ToCategoricalInfersTheClassCountFromTheLargestLabel()
    {
        // max label 2 -> 3 columns; row r has its 1 at column labels[r]
        Assert.Equal([0f, 0f, 1f, 1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f], Encoding.ToCategorical([2, 0, 1, 2]));
        // more columns than labels need (Keras' num_classes=5 for labels [1, 3])
        Assert.Equal([0f, 1f, 0f, 0f, 0f, 0f, 0f, 0f, 1f, 0f], Encoding.ToCategorical([1, 3], 5));
        Assert.Empty(Encoding.ToCategorical([]));
    }

    [Theory]
    [InlineData(3, 3)]  // label 3 needs 4 classes
    [InlineData(-1, 3)] // negative
    [InlineData(-1, null)]
    public void ToCategoricalRejectsLabelsOutsideTheClasses(int bad, int? classes)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Encoding.ToCategorical([0, bad], classes));
        Assert.Contains($"Label {bad} at index 1", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void ToCategoricalRejectsANonPositiveClassCount(int classes)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Encoding.ToCategorical([0, 1], classes));
        Assert.Contains("numClasses", e.Message);
        Assert.Contains(classes.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    // ---------------------------------------------------------------- MultiHot

    [Fact]
    public void MultiHotSetsEachWordOnceAndSkipsWordsOutsideTheVocabulary()
    {
        int[][] sequences =
        [
            [1, 3, 3, 3], // 3 three times: still 1, not 3
            [0, 12, 9],   // 12 >= 10 is outside the vocabulary: skipped
            [],           // an empty review: a zero row
        ];
        var x = Encoding.MultiHot(sequences, 10);
        Assert.Equal(
        [
            0f, 1f, 0f, 1f, 0f, 0f, 0f, 0f, 0f, 0f,
            1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 1f,
            0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f,
        ], x);
    }

    [Fact]
    public void MultiHotWithTheLecturesImdbSetup()
    {
        // imdb.load_data(num_words=10000) keeps word indices 0..9999; vectorize_sequences makes 10,000 columns.
        const int dimension = 10_000;
        var rng = new Random(3);
        int[][] reviews = [.. Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 200).Select(_ => rng.Next(1, dimension)).ToArray())];
        reviews[3] = [1, 14, 9_999, 10_000, 88_584]; // 10,000 and 88,584 (the largest IMDB index) are past num_words
        var x = Encoding.MultiHot(reviews, dimension);
        Assert.Equal(4 * dimension, x.Length);
        for (int i = 0; i < 4; i++)
        {
            var row = x.AsSpan(i * dimension, dimension).ToArray();
            // the row's 1s are exactly the distinct in-vocabulary words of the review
            var expected = reviews[i].Where(w => w < dimension).Distinct().Order().ToArray();
            var ones = Enumerable.Range(0, dimension).Where(j => row[j] == 1f).ToArray();
            Assert.Equal(expected, ones);
            Assert.Equal((float)expected.Length, row.Sum());
        }
        Assert.Equal([1, 14, 9_999], Enumerable.Range(0, dimension).Where(j => x[3 * dimension + j] == 1f));
    }

    [Fact]
    public void MultiHotRejectsNegativeIndicesAndABadDimension()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Encoding.MultiHot([[1, 2], [4, -3]], 10));
        Assert.Contains("Sequence 1", e.Message);
        Assert.Contains("-3", e.Message);

        e = Assert.Throws<ArgumentOutOfRangeException>(() => Encoding.MultiHot([[1]], 0));
        Assert.Contains("10,000", e.Message);
        Assert.Contains("received 0", e.Message);
    }
}
