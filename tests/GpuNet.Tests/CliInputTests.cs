using System.CommandLine;
using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Bad command-line input: a clear message, exit code 1, never a stack trace or "a bug in GpuNet".</summary>
public class CliInputTests
{
    /// <summary>Every numeric option of every command of gpunet.</summary>
    public static TheoryData<string, string> NumericOptions()
    {
        var data = new TheoryData<string, string>();
        Type[] numeric = [typeof(int), typeof(int?), typeof(float), typeof(float?), typeof(double), typeof(double?)];
        foreach (var command in Program.Root(TextWriter.Null, TextWriter.Null).Subcommands)
            foreach (var option in command.Options.Where(o => numeric.Contains(o.ValueType)))
                data.Add(command.Name, option.Name);
        return data;
    }

    /// <summary>A placeholder for each option the command requires, so that the numeric one is what fails.</summary>
    private static string[] Required(string command) =>
        [.. Program.Root(TextWriter.Null, TextWriter.Null).Subcommands.Single(c => c.Name == command).Options.Where(o => o.Required).SelectMany(o => new[] { o.Name, "x" })];

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public void AValueThatIsNotANumberIsNamedWithTheFix(string command, string option)
    {
        var (code, output, error) = TestData.RunCli([command, .. Required(command), option, "abc"]);
        Assert.Equal(1, code);
        Assert.Contains($"error: {option} 'abc' is not a", error);
        Assert.Contains($"gpunet {command} --help", error);
        Assert.DoesNotContain("   at ", error + output); // no stack trace
        Assert.DoesNotContain("bug in GpuNet", error);
    }

    [Fact]
    public void ADecimalCommaIsRefusedNotReadAsAThousandsSeparator()
    {
        // System.CommandLine's own parsing made 1,5 into 15
        var (code, _, error) = TestData.RunCli("train", "--lr", "1,5");
        Assert.Equal(1, code);
        Assert.Contains("--lr '1,5' is not a number: write decimals with a dot, e.g. --lr 1.5", error);
    }
}

/// <summary>Models and batches that cannot fit: the sizes and the fix before anything is allocated.</summary>
public class ModelSizeTests
{
    private static Dataset Tiny(int rows) => new("tiny", new float[rows], new int[rows], 1, 2);

    [Fact]
    public void ABatchBufferOverTheArrayLimitIsNamedBeforeAllocating()
    {
        // 256 rows x 10,000,000 units = 2,560,000,000 values > Array.MaxLength (2,147,483,591)
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(10_000_000, "relu", name: "wide"), new Dense(2, "softmax"));
        model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<ModelTooLargeException>(() => model.Evaluate(Tiny(256)));
        Assert.Contains("Batches of 256 rows through layer 'wide' (10,000,000 units) make 2,560,000,000 values", e.Message);
        Assert.Contains("smaller batch size", e.Message);
    }

    [Fact]
    public void AModelOverTheDevicesMemorySaysHowMuchItNeeds()
    {
        // each buffer fits (256 x 8,000,000 < 2^31) but 41 layers of 8,000,000 units, value and gradient, for 256 rows
        // need 41 x 2 x 8e6 x 256 x 4 bytes = 672 GB: more than any machine that runs these tests
        using var backend = new CpuBackend();
        using var model = new Sequential([new Dense(8_000_000, "relu"), .. Enumerable.Range(0, 40).Select(_ => (Layer)new ActivationLayer(Activation.Relu)), new Dense(2, "softmax")]);
        model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<ModelTooLargeException>(() => model.Evaluate(Tiny(256)));
        Assert.Contains("needs at least 672", e.Message);
        Assert.Contains($"but {backend.Name} has", e.Message);
    }

    [Theory]
    [InlineData("--layers", "2147483647", "parameters")]
    [InlineData("--layers", "200000,200000", "parameters")]
    public void TheCliReportsOversizedModelsAsAMistakeNotABug(string option, string value, string expected)
    {
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", option, value);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("bug in GpuNet", error);
    }

    [Fact]
    public void ABatchLargerThanTheDataIsTheWholeData()
    {
        // Keras' rule: batch_size over the sample count trains on all samples at once; no graph for 2^31 rows is built
        var data = TestData.Blobs(90, 1);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(4, "relu"), new Dense(3, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        var h = model.Fit(data, new FitOptions { Epochs = 1, BatchSize = int.MaxValue });
        Assert.Equal(1, h.Epochs[0].Steps);
        Assert.Equal(90, model.Graph!.BatchCapacity);
    }
}
