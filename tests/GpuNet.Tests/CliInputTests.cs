using System.CommandLine;
using GpuNet.Cli;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Bad command-line input: a clear message, exit code 1, never a stack trace or "a bug in GpuNet".</summary>
public class CliInputTests
{
    /// <summary>Every numeric option of every command, with the required options its command needs besides.</summary>
    public static TheoryData<string, string> NumericOptions()
    {
        var data = new TheoryData<string, string>();
        Command[] commands =
        [
            TrainCommand.Create(TextWriter.Null, TextWriter.Null), EvaluateCommand.Create(TextWriter.Null, TextWriter.Null),
            PredictCommand.Create(TextWriter.Null, TextWriter.Null), BenchCommand.Create(TextWriter.Null, TextWriter.Null),
            ActivationsCommand.Create(TextWriter.Null, TextWriter.Null),
        ];
        Type[] numeric = [typeof(int), typeof(int?), typeof(float), typeof(float?), typeof(double), typeof(double?)];
        foreach (var command in commands)
            foreach (var option in command.Options.Where(o => numeric.Contains(o.ValueType)))
                data.Add(command.Name, option.Name);
        return data;
    }

    private static string[] Required(string command) => command switch
    {
        "evaluate" => ["--model", "m.safetensors"],
        "predict" => ["--model", "m.safetensors", "--input", "x.csv"],
        _ => [],
    };

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
