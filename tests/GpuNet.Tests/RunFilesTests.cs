using Xunit;

namespace GpuNet.Tests;

/// <summary>No output option may replace a file the run reads, compared by full path with links resolved.</summary>
public sealed class RunFilesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-runfiles-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private string CsvCopy()
    {
        string csv = PathOf("titanic.csv");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Data", "titanic.csv"), csv);
        return csv;
    }

    [Theory]
    [InlineData("--save")]
    [InlineData("--checkpoint")]
    [InlineData("--history")]
    [InlineData("--plot")]
    public void ATrainOutputNamingTheCsvIsRefusedAndTheCsvKept(string option)
    {
        string csv = CsvCopy();
        byte[] before = File.ReadAllBytes(csv);
        // the same file through another spelling: a relative path with a detour
        string other = Path.Combine(_folder, "sub", "..", "titanic.csv");
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{csv}", "--target", "survived", "--epochs", "1", option, other);
        Assert.Equal(1, code);
        Assert.Contains($"{option} '{other}' is the --dataset file", error);
        Assert.Contains("another file name", error);
        Assert.DoesNotContain("Epoch 1", output); // refused before training
        Assert.Equal(before, File.ReadAllBytes(csv));
    }

    [Fact]
    public void AnOutputThroughASymbolicLinkToTheInputIsRefused()
    {
        string csv = CsvCopy();
        string link = PathOf("link.csv");
        File.CreateSymbolicLink(link, csv);
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{csv}", "--target", "survived", "--history", link);
        Assert.Equal(1, code);
        Assert.Contains("is the --dataset file", error);
    }

    [Fact]
    public void AnOutputNamingAnIdxFileOfTheDataFolderIsRefused()
    {
        string labels = PathOf("labels-idx1-ubyte");
        File.WriteAllBytes(PathOf("images-idx3-ubyte"), TestData.Idx([100, 28, 28], new byte[100 * 784]));
        File.WriteAllBytes(labels, TestData.Idx([100], [.. Enumerable.Range(0, 100).Select(i => (byte)(i % 10))]));
        byte[] before = File.ReadAllBytes(labels);
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--data", _folder, "--save", labels);
        Assert.Equal(1, code);
        Assert.Contains("is a file of the --data folder", error);
        Assert.Equal(before, File.ReadAllBytes(labels));
    }

    [Fact]
    public void APredictOutputNamingAnImageOfTheInputFolderIsRefused()
    {
        string images = Directory.CreateDirectory(PathOf("digits")).FullName;
        string png = Path.Combine(images, "a.png");
        File.WriteAllBytes(png, [1, 2, 3]);
        var (code, _, error) = TestData.RunCli("predict", "--model", PathOf("m.safetensors"), "--input", images, "--output", png);
        Assert.Equal(1, code);
        Assert.Contains("--output", error);
        Assert.Contains("is an --input file", error);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(png));
    }

    [Theory]
    [InlineData("export", "--onnx")]
    [InlineData("plot-model", "--output")]
    public void AModelCommandNeverWritesOverItsModel(string command, string option)
    {
        string model = PathOf("model.svg"); // a model file whose name would pass as the output
        File.WriteAllBytes(model, [7]);
        var (code, _, error) = TestData.RunCli(command, "--model", model, option, model);
        Assert.Equal(1, code);
        Assert.Contains($"{option} '{model}' is the --model file", error);
        Assert.Equal([7], File.ReadAllBytes(model));
    }
}
