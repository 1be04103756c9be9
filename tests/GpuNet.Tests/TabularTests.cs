using GpuNet.Data;
using GpuNet.Data.Tabular;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// CsvTable, SimpleImputer, the scalers, the stratified split and TabularPreprocessor, on small inline
/// tables and on the real Titanic set (Data/titanic.csv: 1,309 passengers, carData; see Data/SOURCE.md).
/// </summary>
/// <remarks>
/// Titanic counts quoted below were taken from the file itself (Python's csv module, independently of
/// CsvTable): survived no 809 / yes 500; sex female 466 / male 843; passengerClass 1st 323 / 2nd 277 /
/// 3rd 709; age "NA" in 263 rows; every name distinct. The file is sorted by class, then name, so rows
/// 0-322 are 1st class and 323-599 2nd class.
/// </remarks>
public class TabularTests
{
    private static readonly string TitanicPath = Path.Combine(AppContext.BaseDirectory, "Data", "titanic.csv");

    private static CsvTable Titanic() => CsvTable.Load(TitanicPath);

    private static CsvTable Csv(string text, CsvLoadOptions? options = null) =>
        CsvTable.Parse(new StringReader(text), "inline.csv", options);

    private static int[] Range(int start, int count) => Enumerable.Range(start, count).ToArray();

    // ---------------------------------------------------------------- CsvTable

    [Fact]
    public void TitanicColumnKindsAreInferred()
    {
        var t = Titanic();
        Assert.Equal(1309, t.RowCount);
        Assert.Equal(["survived", "sex", "age", "passengerClass", "name"], t.Columns.Select(c => c.Name));
        // "yes"/"female"/"1st"/names do not parse as numbers; every present age does ("0.916700006", "29").
        Assert.Equal(ColumnKind.Categorical, t["survived"].Kind);
        Assert.Equal(ColumnKind.Categorical, t["sex"].Kind);
        Assert.Equal(ColumnKind.Categorical, t["passengerClass"].Kind);
        Assert.Equal(ColumnKind.Categorical, t["name"].Kind);
        Assert.Equal(ColumnKind.Numeric, t["age"].Kind);
        Assert.Equal(263, t["age"].MissingCount);
        Assert.Equal(263, t["age"].Numbers!.Count(double.IsNaN));
        Assert.Equal(0, t["survived"].MissingCount);
        Assert.Equal(809, t["survived"].Categories!.Count(c => c == "no"));
        Assert.Equal(500, t["survived"].Categories!.Count(c => c == "yes"));
        Assert.Equal(466, t["sex"].Categories!.Count(c => c == "female"));
        Assert.Equal([323, 277, 709], new[] { "1st", "2nd", "3rd" }.Select(k => t["passengerClass"].Categories!.Count(c => c == k)));
        // row 2 of the file: "yes","male",0.916700006,"1st","Allison, Master. Hudson Trevor"
        Assert.Equal(0.916700006, t["age"].Numbers![1], 1e-12);
        Assert.Equal("age (numeric, 263 missing)", t["age"].ToString());
    }

    [Fact]
    public void ColumnLookupIsCaseInsensitiveAndAnUnknownNameListsTheColumns()
    {
        var t = Titanic();
        Assert.Same(t["passengerClass"], t["PASSENGERCLASS"]);
        var e = Assert.Throws<KeyNotFoundException>(() => t["fare"]);
        Assert.Contains("'fare'", e.Message);
        Assert.Contains("survived, sex, age, passengerClass, name", e.Message);
    }

    [Fact]
    public void QuotedFieldsKeepTheirCommasQuotesAndNewlines()
    {
        var t = Titanic();
        Assert.Equal("Allen, Miss. Elisabeth Walton", t["name"].Categories![0]);
        Assert.All(t["name"].Categories!, n => Assert.Contains(",", n)); // "Surname, Title. Given names" in every row

        // RFC 4180: "" inside quotes is one quote; a quoted field may span lines.
        var inline = Csv("id,text\n1,\"say \"\"hi\"\", then, go\"\n2,\"two\nlines\"\n");
        Assert.Equal(2, inline.RowCount);
        Assert.Equal("say \"hi\", then, go", inline["text"].Categories![0]);
        Assert.Equal("two\nlines", inline["text"].Categories![1]);
    }

    [Fact]
    public void MissingMarkersBecomeNaNOrNull()
    {
        // MissingValues default: "", NA, N/A, NaN, null, ? (trimmed, any case).
        var t = Csv("x,c\n1,a\nNA,NA\n, \n3,n/a\n?,b\n");
        Assert.Equal(ColumnKind.Numeric, t["x"].Kind); // "1", "3" parse; the rest are missing markers
        Assert.Equal([1.0, double.NaN, double.NaN, 3.0, double.NaN], t["x"].Numbers!);
        Assert.Equal(ColumnKind.Categorical, t["c"].Kind);
        Assert.Equal(new string?[] { "a", null, null, null, "b" }, (IEnumerable<string?>)t["c"].Categories!);
        // A column with no value at all has no number to infer from: it stays categorical.
        Assert.Equal(ColumnKind.Categorical, Csv("x,y\n1,NA\n2,\n")["y"].Kind);
    }

    [Fact]
    public void DeclaredKindsAreHonoured()
    {
        var declared = new CsvLoadOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["zip"] = ColumnKind.Categorical } };
        var t = Csv("zip,n\n01234,1\n98765,2\n", declared);
        // Inferred, "01234" would be the number 1234; declared categorical it keeps its leading zero.
        Assert.Equal(ColumnKind.Categorical, t["zip"].Kind);
        Assert.Equal(new string?[] { "01234", "98765" }, (IEnumerable<string?>)t["zip"].Categories!);
        Assert.Equal(ColumnKind.Numeric, Csv("zip,n\n01234,1\n")["zip"].Kind);

        var numeric = new CsvLoadOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["age"] = ColumnKind.Numeric } };
        var e = Assert.Throws<InvalidDataException>(() => Csv("age\n30\nthirty\n", numeric));
        Assert.Contains("'age'", e.Message);
        Assert.Contains("row 2", e.Message);
        Assert.Contains("'thirty'", e.Message);
    }

    [Fact]
    public void ADeclaredKindForAColumnThatDoesNotExistIsRejected()
    {
        // A misspelt name used to be ignored silently, leaving the real column inferred.
        var typo = new CsvLoadOptions { ColumnKinds = new Dictionary<string, ColumnKind> { ["passenger_class"] = ColumnKind.Categorical } };
        var e = Assert.Throws<InvalidDataException>(() => CsvTable.Load(TitanicPath, typo));
        Assert.Contains("'passenger_class'", e.Message);
        Assert.Contains("passengerClass", e.Message);
    }

    [Theory]
    [InlineData("a,b,c\n1,2,3\n4,5\n", 3)]     // a field short on line 3 (the header is line 1)
    [InlineData("a,b,c\n1,2,3\n4,5,6,7\n", 3)] // a field too many
    [InlineData("a,b,c\n1,2\n", 2)]            // short on the first data row
    public void RaggedRowsAreRejected(string text, int line)
    {
        var e = Assert.Throws<InvalidDataException>(() => Csv(text));
        Assert.Contains("inline.csv", e.Message);
        Assert.Contains("3-column header", e.Message);
        Assert.Contains($"near line {line}", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    public void AnEmptyFileIsRejected(string text)
    {
        var e = Assert.Throws<InvalidDataException>(() => Csv(text));
        Assert.Contains("empty", e.Message);
        Assert.Contains("header", e.Message);
    }

    [Fact]
    public void DuplicateColumnNamesAreRejected()
    {
        var e = Assert.Throws<InvalidDataException>(() => Csv("a,b,A\n1,2,3\n"));
        Assert.Contains("'A'", e.Message);
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), "gpunet-no-such-file.csv");
        var e = Assert.Throws<FileNotFoundException>(() => CsvTable.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingReportListsOnlyColumnsWithGaps()
    {
        // 263 / 1309 = 0.20091... -> 20.1%
        Assert.Equal(["age: 263 of 1309 missing (20.1%)"], Titanic().MissingReport());
        Assert.Equal(["y: 1 of 4 missing (25.0%)"], Csv("x,y\n1,a\n2,\n3,b\n4,c\n").MissingReport());
    }

    // ---------------------------------------------------------------- SimpleImputer

    [Theory]
    [InlineData(ImputeStrategy.Mean, 4.5)]         // (1 + 2 + 5 + 10) / 4
    [InlineData(ImputeStrategy.Median, 3.5)]       // sorted 1, 2, 5, 10: (2 + 5) / 2
    [InlineData(ImputeStrategy.Constant, -1.0)]    // the constant given
    public void NumericStrategies(ImputeStrategy strategy, double expected)
    {
        var x = Csv("x\n10\nNA\n2\n1\n5\n")["x"];
        var imputer = new SimpleImputer(strategy, constantNumber: -1).Fit(x, Range(0, 5));
        Assert.Equal(expected, imputer.NumberFill, 1e-12);
        Assert.Equal(expected, imputer.Number(x, 1), 1e-12); // the missing row
        Assert.Equal(10.0, imputer.Number(x, 0));              // a present row is left alone
    }

    [Fact]
    public void MedianOfAnOddCountIsTheMiddleValue()
    {
        var x = Csv("x\n7\n1\nNA\n100\n")["x"];
        Assert.Equal(7.0, new SimpleImputer(ImputeStrategy.Median).Fit(x, Range(0, 4)).NumberFill); // sorted 1, 7, 100
    }

    [Fact]
    public void MostFrequentNumberBreaksTiesTowardsTheSmallest()
    {
        // 5 and 2 appear twice each, 7 once: the tie goes to 2.
        var x = Csv("x\n5\n7\n5\n2\nNA\n2\n")["x"];
        Assert.Equal(2.0, new SimpleImputer(ImputeStrategy.MostFrequent).Fit(x, Range(0, 6)).NumberFill);
    }

    [Fact]
    public void CategoricalStrategies()
    {
        var c = Csv("c\nb\na\nNA\nb\nB\n")["c"];
        var frequent = new SimpleImputer(ImputeStrategy.MostFrequent).Fit(c, Range(0, 5));
        Assert.Equal("b", frequent.CategoryFill); // b twice, a and B once (case matters)
        Assert.Equal("b", frequent.Category(c, 2));
        Assert.Equal("a", frequent.Category(c, 1));

        var constant = new SimpleImputer(ImputeStrategy.Constant, constantCategory: "unknown").Fit(c, Range(0, 5));
        Assert.Equal("unknown", constant.Category(c, 2));
        Assert.Equal("missing", new SimpleImputer(ImputeStrategy.Constant).Fit(c, Range(0, 5)).CategoryFill); // the default

        // Tie between "B" and "b" (once each): ordinal order puts "B" (0x42) before "b" (0x62).
        var tie = Csv("c\nb\nB\nNA\n")["c"];
        Assert.Equal("B", new SimpleImputer(ImputeStrategy.MostFrequent).Fit(tie, Range(0, 3)).CategoryFill);
    }

    [Fact]
    public void OnlyTheTrainingRowsDecideTheFillValue()
    {
        // Rows 0-3 train, 4-6 test. Train mean = (1 + 2 + 3) / 3 = 2; over all rows it would be
        // (1 + 2 + 3 + 100 + 100) / 5 = 41.2, and the train median 2 would become 3.
        var x = Csv("x\n1\n2\n3\nNA\n100\n100\nNA\n")["x"];
        int[] train = [0, 1, 2, 3];
        var mean = new SimpleImputer(ImputeStrategy.Mean).Fit(x, train);
        var median = new SimpleImputer(ImputeStrategy.Median).Fit(x, train);
        Assert.Equal(2.0, mean.NumberFill, 1e-12);
        Assert.Equal(2.0, mean.Number(x, 6), 1e-12); // a test row's gap gets the training statistic
        Assert.Equal(2.0, median.NumberFill);

        var c = Csv("c\na\na\nb\nNA\nb\nb\nb\n")["c"];
        Assert.Equal("a", new SimpleImputer(ImputeStrategy.MostFrequent).Fit(c, train).CategoryFill); // b wins only with the test rows
    }

    [Theory]
    [InlineData(ImputeStrategy.Mean)]
    [InlineData(ImputeStrategy.Median)]
    public void MeanAndMedianOfTextAreRejected(ImputeStrategy strategy)
    {
        var sex = Titanic()["sex"];
        var e = Assert.Throws<ArgumentException>(() => new SimpleImputer(strategy).Fit(sex, Range(0, 10)));
        Assert.Contains("'sex'", e.Message);
        Assert.Contains("categorical", e.Message);
        Assert.Contains("MostFrequent", e.Message);
    }

    [Fact]
    public void AStatisticNeedsAPresentTrainingValue()
    {
        var x = Csv("x\nNA\nNA\n4\n")["x"];
        var e = Assert.Throws<ArgumentException>(() => new SimpleImputer(ImputeStrategy.Mean).Fit(x, [0, 1]));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("Constant", e.Message);
        Assert.Equal(0.0, new SimpleImputer(ImputeStrategy.Constant).Fit(x, [0, 1]).NumberFill); // a constant needs none
    }

    // ---------------------------------------------------------------- scalers

    [Fact]
    public void MinMaxIsFittedOnTrainAndTestMayFallOutsideTheUnitInterval()
    {
        // train (3 x 2): column 0 spans [0, 10], column 1 spans [10, 30]
        float[] train = [0, 10, 5, 20, 10, 30];
        var scaler = new MinMaxScaler().Fit(train, 2);
        Assert.Equal([0f, 10f], scaler.Offset);
        Assert.Equal([0.1f, 0.05f], scaler.Scale); // 1 / (10 - 0), 1 / (30 - 10)

        scaler.Transform(train, 2);
        Assert.Equal([0f, 0f, 0.5f, 0.5f, 1f, 1f], train);

        float[] test = [20, 0, -5, 25];
        scaler.Transform(test, 2);
        // (20 - 0) / 10 = 2; (0 - 10) / 20 = -0.5; (-5 - 0) / 10 = -0.5; (25 - 10) / 20 = 0.75
        AssertClose([2f, -0.5f, -0.5f, 0.75f], test);
    }

    [Fact]
    public void StandardIsFittedOnTrainWithThePopulationStd()
    {
        // column 0: 1, 2, 3, 4 -> mean 2.5, population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
        // column 1: 10, 10, 20, 20 -> mean 15, variance 25, std 5
        float[] train = [1, 10, 2, 10, 3, 20, 4, 20];
        var scaler = new StandardScaler().Fit(train, 2);
        AssertClose([2.5f, 15f], scaler.Offset);
        AssertClose([1 / MathF.Sqrt(1.25f), 0.2f], scaler.Scale);

        scaler.Transform(train, 2);
        for (int c = 0; c < 2; c++)
        {
            var col = Enumerable.Range(0, 4).Select(r => (double)train[r * 2 + c]).ToArray();
            Assert.Equal(0.0, col.Average(), 1e-6);
            Assert.Equal(1.0, Math.Sqrt(col.Select(v => v * v).Average()), 1e-6);
        }

        float[] test = [5, 0];
        scaler.Transform(test, 2);
        // (5 - 2.5) / sqrt(1.25) = 2.2360680; (0 - 15) / 5 = -3: the test set keeps the training statistics
        AssertClose([2.2360680f, -3f], test);
    }

    [Fact]
    public void AConstantColumnMapsToZero()
    {
        float[] train = [7, 7, 7];
        var minMax = new MinMaxScaler().Fit(train, 1);
        var standard = new StandardScaler().Fit(train, 1);
        // scale 0 instead of 1 / 0: every value, even an unseen 9, becomes 0 rather than NaN or infinity
        float[] a = [7, 9], b = [7, 9];
        minMax.Transform(a, 1);
        standard.Transform(b, 1);
        Assert.Equal([0f, 0f], a);
        Assert.Equal([0f, 0f], b);
    }

    [Fact]
    public void ScalerShapeErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => new MinMaxScaler().Fit(new float[5], 2)); // 5 values are not rows of 2
        Assert.Contains("rows x 2", e.Message);
        Assert.Throws<ArgumentException>(() => new StandardScaler().Fit([], 3));
        Assert.Throws<ArgumentException>(() => new StandardScaler().Fit(new float[4], 0));

        var scaler = new StandardScaler().Fit(new float[] { 1, 2, 3, 4 }, 2);
        e = Assert.Throws<ArgumentException>(() => scaler.Transform(new float[6], 3));
        Assert.Contains("fitted on 2 columns", e.Message);
        Assert.Contains("applied to 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => scaler.Transform(new float[5], 2));
        Assert.Contains("5 values", e.Message);

        var unfitted = Assert.Throws<InvalidOperationException>(() => new MinMaxScaler().Transform(new float[2], 2));
        Assert.Contains("Fit", unfitted.Message);
    }

    // ---------------------------------------------------------------- stratified split

    private static int[] Labels70x20x10() =>
        [.. Enumerable.Repeat(0, 70), .. Enumerable.Repeat(1, 20), .. Enumerable.Repeat(2, 10)];

    [Fact]
    public void StratifiedSplitKeepsClassProportions()
    {
        int[] labels = Labels70x20x10();
        var (train, test) = Splits.StratifiedTrainTest(labels, 0.25, seed: 1);
        for (int k = 0; k < 3; k++)
        {
            int count = labels.Count(l => l == k);
            // each class gives round(0.25 * count) test rows: 17.5 -> 18 (to even), 5, 2.5 -> 2
            Assert.InRange(test.Count(i => labels[i] == k), 0.25 * count - 1, 0.25 * count + 1);
        }
        Assert.Equal(18 + 5 + 2, test.Length);
    }

    [Fact]
    public void StratifiedSplitIsADisjointCompleteAscendingPartition()
    {
        var (train, test) = Splits.StratifiedTrainTest(Labels70x20x10(), 0.3, seed: 5);
        Assert.Empty(train.Intersect(test));
        Assert.Equal(Enumerable.Range(0, 100), train.Concat(test).Order());
        Assert.Equal(train.Order(), train);
        Assert.Equal(test.Order(), test);
    }

    [Fact]
    public void StratifiedSplitIsReproducibleFromItsSeed()
    {
        int[] labels = Labels70x20x10();
        var a = Splits.StratifiedTrainTest(labels, 0.2, 7).Test;
        var b = Splits.StratifiedTrainTest(labels, 0.2, 7).Test;
        var c = Splits.StratifiedTrainTest(labels, 0.2, 8).Test;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void StratifiedSplitRejectsFractionsOutsideTheOpenInterval(double fraction)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Splits.StratifiedTrainTest(Labels70x20x10(), fraction, 1));
        Assert.Contains("(0, 1)", e.Message);
    }

    [Fact]
    public void StratifiedSplitRejectsAnEmptyPart()
    {
        // one sample per class: round(0.2 * 1) = 0 test rows per class, so the test part is empty
        Assert.Throws<ArgumentException>(() => Splits.StratifiedTrainTest([0, 1, 2], 0.2, 1));
    }

    // ---------------------------------------------------------------- TabularPreprocessor on Titanic

    private static readonly string[] TitanicFeatureNames =
        ["sex=female", "sex=male", "age", "passengerClass=1st", "passengerClass=2nd", "passengerClass=3rd"];

    [Fact]
    public void TitanicPipeline()
    {
        var table = Titanic();
        var prep = new TabularPreprocessor("survived");
        int[] y = prep.EncodeTarget(table);
        Assert.Equal(["no", "yes"], prep.Classes); // ordinal order: "no" is class 0
        Assert.Equal(500, y.Count(v => v == 1));

        var (trainRows, testRows) = Splits.StratifiedTrainTest(y, 0.2, seed: 42);
        prep.Fit(table, trainRows);
        // Automatic choice: every column but the target, except "name" (1,309 distinct values > 1309 / 2).
        Assert.Equal(TitanicFeatureNames, prep.FeatureNames);
        Assert.Equal(["name (free text: 1309 distinct values)"], prep.Skipped);

        var train = prep.Transform(table, trainRows, "titanic/train");
        var test = prep.Transform(table, testRows, "titanic/test");
        Assert.Equal(6, train.FeatureCount);
        Assert.Equal(2, train.ClassCount);
        Assert.Equal(1309, train.Count + test.Count);
        // round(0.2 * 809) = 162 "no" and round(0.2 * 500) = 100 "yes" in the test set
        Assert.Equal(262, test.Count);
        Assert.Equal(100, test.Labels.Count(l => l == 1));

        // Standard scaling was fitted on the training rows: their scaled age has mean 0 and std 1.
        var age = Enumerable.Range(0, train.Count).Select(r => (double)train.Features[r * 6 + 2]).ToArray();
        Assert.Equal(0.0, age.Average(), 1e-4);
        Assert.Equal(1.0, Math.Sqrt(age.Select(a => a * a).Average()), 1e-4);

        // One-hot columns are 0/1 (not scaled) and each group has exactly one 1 per row.
        for (int r = 0; r < test.Count; r++)
        {
            var row = test.Features.AsSpan(r * 6, 6).ToArray();
            Assert.Equal(1f, row[0] + row[1]);
            Assert.Equal(1f, row[3] + row[4] + row[5]);
            Assert.All(new[] { row[0], row[1], row[3], row[4], row[5] }, v => Assert.True(v is 0f or 1f));
        }
        // The first passenger (row 0): "yes","female",29,"1st" -> sex=female and passengerClass=1st set.
        var first = prep.Transform(table, [0], "first");
        Assert.Equal([1f, 0f, 1f, 0f, 0f], new[] { 0, 1, 3, 4, 5 }.Select(j => first.Features[j]));
        Assert.Equal(1, first.Labels[0]);
    }

    [Fact]
    public void TitanicAgeIsMedianImputedFromTheTrainingRowsOnly()
    {
        var table = Titanic();
        // Rows 0-653 train (all 1st and 2nd class plus 54 of 3rd: an older group), 654-1308 test.
        int[] train = Range(0, 654), test = Range(654, 655);
        var ages = table["age"].Numbers!;
        var present = train.Select(r => ages[r]).Where(a => !double.IsNaN(a)).Order().ToArray();
        double trainMedian = present.Length % 2 == 1 ? present[present.Length / 2]
            : (present[present.Length / 2 - 1] + present[present.Length / 2]) / 2;
        // 599 present ages in the training rows: the 300th is 31, while the median over all rows is 28.
        Assert.Equal(31.0, trainMedian);

        var prep = new TabularPreprocessor("survived", scaler: ScalerKind.None).Fit(table, train);
        var set = prep.Transform(table, test, "test");
        int firstGap = Array.FindIndex(test, r => double.IsNaN(ages[r]));
        Assert.True(firstGap >= 0);
        Assert.Equal(31f, set.Features[firstGap * 6 + 2]);
        int firstAge = Array.FindIndex(test, r => !double.IsNaN(ages[r]));
        Assert.Equal((float)ages[test[firstAge]], set.Features[firstAge * 6 + 2]);
    }

    [Fact]
    public void ACategoryUnseenInTrainingBecomesAllZeros()
    {
        var table = Titanic();
        int[] train = Range(0, 600); // rows 0-599: 323 1st + 277 2nd class, no 3rd
        Assert.DoesNotContain("3rd", train.Select(r => table["passengerClass"].Categories![r]));

        var prep = new TabularPreprocessor("survived").Fit(table, train);
        Assert.Equal(["sex=female", "sex=male", "age", "passengerClass=1st", "passengerClass=2nd"], prep.FeatureNames);
        int third = Array.FindIndex(table["passengerClass"].Categories!, c => c == "3rd");
        var row = prep.Transform(table, [third], "3rd").Features;
        Assert.Equal([0f, 0f], row[3..5]);
        Assert.Equal(1f, row[0] + row[1]); // the known column group is still one-hot
    }

    [Fact]
    public void TransformReadsTheTableItIsGiven()
    {
        // Fit on Titanic, then transform a separate file with the same columns (a held-out CSV, as Kaggle's test.csv).
        var table = Titanic();
        var prep = new TabularPreprocessor("survived", scaler: ScalerKind.None).Fit(table, Range(0, 654));
        var other = Csv("survived,sex,age,passengerClass,name\nno,male,80,3rd,\"Doe, Mr. John\"\nyes,female,NA,1st,\"Doe, Mrs. Jane\"\n");
        var set = prep.Transform(other, [0, 1], "other");
        // row 0: male, 80, 3rd; row 1: female, age missing -> training median 31, 1st
        Assert.Equal([0f, 1f, 80f, 0f, 0f, 1f, 1f, 0f, 31f, 1f, 0f, 0f], set.Features);
        Assert.Equal([0, 1], set.Labels);

        // The same column with another kind (no age present, so it is inferred categorical) is named.
        var noAges = Csv("survived,sex,age,passengerClass,name\nno,male,NA,3rd,x\n");
        var e = Assert.Throws<InvalidDataException>(() => prep.Transform(noAges, [0], "bad"));
        Assert.Contains("'age'", e.Message);
        Assert.Contains("ColumnKinds", e.Message);
    }

    [Fact]
    public void ExplicitFeaturesAndLabelEncoding()
    {
        var table = Titanic();
        var prep = new TabularPreprocessor("survived", ["passengerClass", "sex"], encoding: CategoricalEncoding.Label, scaler: ScalerKind.None)
            .Fit(table, Range(0, 1309));
        Assert.Equal(["passengerClass", "sex"], prep.FeatureNames);
        var row = prep.Transform(table, [0], "r").Features; // "1st" -> 0 of [1st, 2nd, 3rd]; "female" -> 0 of [female, male]
        Assert.Equal([0f, 0f], row);
        var e = Assert.Throws<ArgumentException>(() => new TabularPreprocessor("survived", ["survived"]).Fit(table, Range(0, 10)));
        Assert.Contains("target", e.Message);
    }

    private static void AssertClose(float[] expected, float[] actual, float tol = 1e-6f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tol * (1 + MathF.Abs(expected[i])), $"index {i}: expected {expected[i]}, got {actual[i]}");
    }
}
