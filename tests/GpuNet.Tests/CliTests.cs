using GpuNet.Cli;
using Xunit;

namespace GpuNet.Tests;

public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void TrainPrintsDeviceEpochsAndTestAccuracy()
    {
        var (code, output, error) = Run("train", "--device", "cpu", "--epochs", "2");
        Assert.True(code == 0, error);
        Assert.Contains("Device: CPU", output);
        Assert.Contains("6,400 train / 1,600 validation", output);
        Assert.Contains("Epoch 1/2", output);
        Assert.Contains("val_accuracy:", output);
        Assert.Contains("Test: loss", output);
        Assert.Contains("Total params: 109,386", output);
    }

    [Theory]
    [InlineData("--epochs", "0", "--epochs must be a positive integer")]
    [InlineData("--batch-size", "-5", "--batch-size must be a positive integer")]
    [InlineData("--lr", "-1", "--lr must be a positive number")]
    [InlineData("--validation-split", "1.5", "--validation-split must be in [0, 1)")]
    [InlineData("--device", "tpu", "tpu")]
    public void BadOptionsGetAClearMessage(string option, string value, string expected)
    {
        var (code, _, error) = Run("train", option, value);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error); // no stack trace
    }

    [Fact]
    public void MissingDataFolderIsAnErrorNotACrash()
    {
        var (code, _, error) = Run("train", "--device", "cpu", "--data", "/no/such/folder");
        Assert.Equal(1, code);
        Assert.Contains("error: Data folder '/no/such/folder' does not exist", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void DevicesListsTheCpuBackend()
    {
        var (code, output, error) = Run("devices");
        Assert.True(code == 0, error);
        Assert.Contains("GpuNet CpuBackend", output);
        Assert.Contains("auto selects:", output);
    }
}
