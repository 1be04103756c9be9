using GpuNet.Data.Tabular;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Input that used to pass silently: another CSV separator, text in a numeric column, a one-class target, options that cannot act.</summary>
public sealed class SilentInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-silent-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Csv(string name, string text)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("a;b;y\n1,5;2;x\n3;4;z\n", ";")]
    [InlineData("a\tb\ty\n1\t2\tx\n", "\\t")]
    [InlineData("a|b|y\n1|2|x\n", "|")]
    public void AnotherSeparatorIsNamedWithTheFix(string text, string shown)
    {
        var e = Assert.Throws<InvalidDataException>(() => CsvTable.Parse(new StringReader(text), "eu.csv"));
        Assert.Contains($"separates its fields with '{shown}', not ','", e.Message);
        Assert.Contains($"CsvLoadOptions.Delimiter = \"{shown}\"", e.Message);
        // and with that delimiter the file reads
        var table = CsvTable.Parse(new StringReader(text), "eu.csv", new CsvLoadOptions { Delimiter = shown == "\\t" ? "\t" : shown });
        Assert.Equal(3, table.Columns.Count);
    }

    [Fact]
    public void ANumericColumnWithAFewTextCellsIsReportedNotSilentlyOneHotEncoded()
    {
        var table = CsvTable.Parse(new StringReader("a,b,y\n1,2,x\n3,oops,z\n5,6,x\n7,8,z\n9,10,x\n"), "t.csv");
        Assert.Equal(ColumnKind.Categorical, table["b"].Kind); // still read (a column of text may be categorical)...
        var warning = Assert.Single(table.Warnings); // ...but said
        Assert.Contains("column 'b' holds numbers in 4 of 5 rows but text in 1 (row 2: 'oops')", warning);
        Assert.Empty(CsvTable.Parse(new StringReader("a,y\nred,x\nblue,z\n1,x\n"), "c.csv").Warnings); // mostly text: categories

        var (code, output, _) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{Csv("t.csv", "a,b,y\n1,2,x\n3,oops,z\n5,6,x\n7,8,z\n9,10,x\n2,2,z\n4,4,x\n6,6,z\n8,8,x\n1,1,z\n")}",
            "--target", "y", "--epochs", "1");
        Assert.Equal(0, code);
        Assert.Contains("warning: ", output);
        Assert.Contains("'oops'", output);
    }

    [Fact]
    public void ATargetWithASingleClassIsRefused()
    {
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{Csv("one.csv", "a,y\n1,x\n2,x\n3,x\n")}", "--target", "y");
        Assert.Equal(1, code);
        Assert.Contains("holds one class, 'x', in all 3 labelled rows: a classifier needs at least two", error);
    }

    [Theory]
    [InlineData(new[] { "--momentum", "0.5" }, "--momentum has no effect with --optimizer sgd")]
    [InlineData(new[] { "--optimizer", "adam", "--momentum", "0.5" }, "--momentum has no effect with --optimizer adam")]
    [InlineData(new[] { "--decay", "0.1" }, "--decay has no effect with --lr-schedule constant")]
    [InlineData(new[] { "--target", "label" }, "--target label has no effect on --dataset mnist10k")]
    [InlineData(new[] { "--dataset", "csv:x.csv", "--target", "y", "--augment", "default" }, "a CSV dataset has no images")]
    public void AnOptionWithNoEffectInTheChosenSettingIsRefused(string[] options, string expected)
    {
        var (code, output, error) = TestData.RunCli(["train", "--device", "cpu", .. options]);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("Epoch", output);
    }

    [Fact]
    public void EvaluateRefusesATargetForAnImageModel()
    {
        string model = Path.Combine(_folder, "m.safetensors");
        Assert.Equal(0, TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--layers", "8", "--save", model).Code);
        var (code, _, error) = TestData.RunCli("evaluate", "--device", "cpu", "--model", model, "--target", "label");
        Assert.Equal(1, code);
        Assert.Contains("--target label has no effect on --dataset mnist10k", error);
    }

    [Fact]
    public void LabelsThatLeaveClassesWithoutSamplesAreReported()
    {
        // 100 images labelled 0..9, one of them 200: 191 classes with no sample
        var labels = Enumerable.Range(0, 100).Select(i => (byte)(i % 10)).ToArray();
        labels[17] = 200;
        File.WriteAllBytes(Path.Combine(_folder, "images-idx3-ubyte"), TestData.Idx([100, 28, 28], new byte[100 * 784]));
        File.WriteAllBytes(Path.Combine(_folder, "labels-idx1-ubyte"), TestData.Idx([100], labels));
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--data", _folder, "--epochs", "1", "--layers", "4");
        Assert.True(code == 0, error);
        Assert.Contains("run from 0 to 200, but 190 of those 201 classes have no training sample (10, 11, 12, 13, 14, ...); the largest label is 200", output);
    }

    [Fact]
    public void InfinityInACsvIsNamedByColumnAndRowNotBlamedOnTheLearningRate()
    {
        string csv = Csv("inf.csv", "a,b,y\n1,Infinity,x\n3,4,z\n5,6,x\n2,2,z\n1,1,x\n2,3,z\n");
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{csv}", "--target", "y", "--epochs", "1");
        Assert.Equal(1, code);
        Assert.Contains("column 'b' holds", error);
        Assert.Contains("in row 1 (1 infinite values in all)", error);
        Assert.DoesNotContain("learning rate", error);
        Assert.DoesNotContain("(Parameter '", error); // .NET's tail names code, not the input
    }
}
