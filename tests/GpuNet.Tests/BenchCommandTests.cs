using System.Text.Json;
using GpuNet.Cli;
using GpuNet.Kernels;
using Xunit;

namespace GpuNet.Tests;

public sealed class BenchCommandTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"gpunet-bench-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => TestData.RunCli(args);

    [Fact]
    public void TinyRunPrintsTheTableAndWritesAChartAndTheFigures()
    {
        var (code, output, error) = Run("bench", "--devices", "cpu", "--batch-sizes", "1,8", "--steps", "3", "--warmup", "1", "--out", _folder);
        Assert.True(code == 0, error);
        Assert.Equal("", error);
        Assert.Contains("cpu = CPU", output);
        Assert.Contains("| batch | cpu samples/s |", output);
        Assert.Matches(@"\|\s+1 \|\s+[\d,]+ \|", output);
        Assert.Matches(@"\|\s+8 \|\s+[\d,]+ \|", output);
        Assert.DoesNotContain("\u001b[", output); // no ANSI escapes in a StringWriter

        // exactly the two results: the temporary files of the atomic writes are gone
        var files = Directory.GetFiles(_folder).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(2, files.Length);
        string png = Path.Combine(_folder, files.Single(f => f!.EndsWith(".png", StringComparison.Ordinal))!);
        string json = Path.Combine(_folder, files.Single(f => f!.EndsWith(".json", StringComparison.Ordinal))!);
        Assert.Contains($"Chart: {Path.Combine(_folder, Path.GetFileName(png))}", output);

        byte[] image = File.ReadAllBytes(png);
        Assert.Equal(PngSignature, image[..8]);
        Assert.True(image.Length > 10_000, $"a 1000x650 chart with axes, title and legend is more than 10 kB; got {image.Length} bytes");

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("lecture", root.GetProperty("model").GetString());
        Assert.True(root.GetProperty("machine").GetProperty("logicalCores").GetInt32() >= 1);
        Assert.True(root.GetProperty("date").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(-1));
        var points = root.GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal(2, points.Length);
        Assert.Equal([1, 8], points.Select(p => p.GetProperty("batch").GetInt32()));
        foreach (var p in points)
        {
            Assert.Equal("cpu", p.GetProperty("device").GetString());
            Assert.StartsWith("CPU (", p.GetProperty("deviceName").GetString());
            Assert.Equal([784, 128, 64, 10], p.GetProperty("layers").EnumerateArray().Select(l => l.GetInt32()));
            Assert.Equal(3, p.GetProperty("steps").GetInt32()); // --steps alone: exactly that many
            double seconds = p.GetProperty("seconds").GetDouble(), rate = p.GetProperty("samplesPerSecond").GetDouble();
            Assert.True(seconds > 0 && rate > 0, $"seconds {seconds}, samples/s {rate}");
            // samples/s = batch x steps / seconds
            Assert.Equal(p.GetProperty("batch").GetInt32() * 3 / seconds, rate, 1e-6 * rate);
            Assert.True(p.GetProperty("bytesPerStep").GetDouble() >= 0); // recorded; its value is the allocation tests' business
        }
    }

    [Fact]
    public void MinTimeAddsStepsUntilTheClockReachesIt()
    {
        var (code, _, error) = Run("bench", "--devices", "cpu", "--widths", "16", "--batch-sizes", "4", "--steps", "2", "--min-time", "0.2",
            "--warmup", "0", "--out", _folder);
        Assert.True(code == 0, error);
        var json = Directory.GetFiles(_folder, "*.json").Single();
        var point = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("points")[0];
        Assert.Equal(16, point.GetProperty("width").GetInt32());
        Assert.True(point.GetProperty("steps").GetInt32() > 2);
        // the runs after the first aim 10% past the minimum; four at most, so a slowed machine can end a little short
        Assert.True(point.GetProperty("seconds").GetDouble() >= 0.15, point.ToString());
    }

    [Fact]
    public void TheAdaptiveWarmUpRunsUntilTheRateStopsRisingWithinItsLimit()
    {
        var data = TestData.Blobs(256, 1);
        using var backend = new Backends.CpuBackend();
        Models.Sequential Model()
        {
            var m = new Models.Sequential(new Layers.Dense(32, "relu"), new Layers.Dense(3, "softmax"));
            m.Compile(new Optimizers.Sgd(0.01f), new Losses.SparseCategoricalCrossentropy(), backend, seed: 1);
            return m;
        }
        using (var fixedOnly = Model())
        {
            var t = fixedOnly.MeasureTrainingThroughput(data, 16, warmupSteps: 3, steps: 5);
            Assert.Equal(3, t.WarmupSteps);
        }
        using var adaptive = Model();
        var r = adaptive.MeasureTrainingThroughput(data, 16, warmupSteps: 3, steps: 5, maxWarmup: TimeSpan.FromSeconds(0.5));
        // at least two windows of 0.1 s beyond the fixed steps, and stopped by the limit at the latest (one window over it, plus a slow step)
        Assert.True(r.WarmupSteps > 3 + 2, $"{r.WarmupSteps} warm-up steps");
        Assert.InRange(r.WarmupTime.TotalSeconds, 0.2, 2.0);
        Assert.Equal(5, r.Steps);
    }

    [Theory]
    [InlineData(new[] { "--warmup-time", "-1" }, "--warmup-time must be a number of seconds in [0, 600]; received -1")]
    [InlineData(new[] { "--batch-sizes", "0,8" }, "--batch-sizes '0,8': '0' is not a positive integer")]
    [InlineData(new[] { "--batch-sizes", "64,abc" }, "'abc' is not a positive integer")]
    [InlineData(new[] { "--batch-sizes", "100000" }, "100000 is more than the 65,536")]
    [InlineData(new[] { "--widths", "128,-1" }, "--widths '128,-1': '-1' is not a positive integer")]
    [InlineData(new[] { "--devices", "cpu,tpu" }, "'tpu' is not a device")]
    [InlineData(new[] { "--devices", "," }, "--devices is empty")]
    [InlineData(new[] { "--steps", "0" }, "--steps must be a positive integer; received 0")]
    [InlineData(new[] { "--warmup", "-1" }, "--warmup must be an integer >= 0; received -1")]
    [InlineData(new[] { "--min-time", "-2" }, "--min-time must be a number of seconds in [0, 3600]; received -2")]
    [InlineData(new[] { "--model", "huge" }, "huge")]
    [InlineData(new[] { "--model", "wide", "--widths", "64" }, "drop --model wide")]
    [InlineData(new[] { "--devices", "ilgpu-cpu", "--batch-sizes", "128,256" }, "Nothing to measure")]
    public void BadOptionsGetAClearMessage(string[] args, string expected)
    {
        var (code, output, error) = Run(["bench", "--out", _folder, .. args]);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error); // no stack trace
        Assert.DoesNotContain("Benchmark:", output); // nothing was measured
        Assert.False(Directory.Exists(_folder) && Directory.EnumerateFiles(_folder).Any());
    }

    [Fact]
    public void AnUnwritableOutFolderIsAClearErrorBeforeMeasuring()
    {
        // a folder below a regular file can never be created, whoever runs the test (root ignores permissions)
        Directory.CreateDirectory(_folder);
        string file = Path.Combine(_folder, "a-file");
        File.WriteAllText(file, "");
        var (code, output, error) = Run("bench", "--devices", "cpu", "--batch-sizes", "1", "--steps", "1", "--out", Path.Combine(file, "results"));
        Assert.Equal(1, code);
        Assert.Contains($"--out '{Path.Combine(file, "results")}': cannot write there", error);
        Assert.Contains("Give a folder you can write to", error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal("", output);
    }

    [Fact]
    public void CudaAskedForWithoutAGpuIsAClearError()
    {
        if (IlgpuBackend.IsCudaAvailable()) Assert.Skip("A CUDA device is present.");
        var (code, output, error) = Run("bench", "--devices", "cpu,cuda", "--batch-sizes", "1", "--steps", "1", "--out", _folder);
        Assert.Equal(1, code);
        Assert.Equal("error: --devices cuda: no CUDA device was found. Leave cuda out (e.g. --devices cpu), or check the NVIDIA driver with nvidia-smi.\n",
            error.Replace("\r\n", "\n"));
        Assert.Equal("", output);
        Assert.False(Directory.Exists(_folder) && Directory.EnumerateFiles(_folder).Any());
    }

    [Fact]
    public void TheTableComparesTheGpuWithTheCpuAndSaysWhereItPays()
    {
        // made-up figures: CUDA is 10x slower at batch 1 (launch overhead), 1.2x faster at 64, 10x at 1024
        var results = Results(("cpu", 1, 1_000), ("cuda", 1, 100), ("cpu", 64, 50_000), ("cuda", 64, 60_000),
            ("cpu", 1024, 200_000), ("cuda", 1024, 2_000_000));
        var text = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(text),
        });
        console.Write(BenchReport.Table(results, terminal: false));
        string table = text.ToString();
        Assert.Contains("| batch | cpu samples/s | cuda samples/s | cuda / cpu |", table);
        Assert.Matches(@"\|\s+1 \|\s+1,000 \|\s+100 \|\s+x0\.10 \|", table);
        Assert.Matches(@"\|\s+64 \|\s+50,000 \|\s+60,000 \|\s+x1\.20 \|", table);
        Assert.Matches(@"\|\s+1024 \|\s+200,000 \|\s+2,000,000 \|\s+x10\.0 \|", table);
        Assert.Equal(["lecture: CUDA is faster than the CPU backend from batch 64 on (best x10.0 at batch 1024)."], BenchReport.Verdicts(results));

        // faster at 64 but slower again at 1024: it does not pay "from 64 on"
        var mixed = Results(("cpu", 64, 50_000), ("cuda", 64, 60_000), ("cpu", 1024, 200_000), ("cuda", 1024, 100_000));
        Assert.Equal(["lecture: CUDA is faster only at batch 64, not at the largest batch measured (best x1.2 at batch 64)."], BenchReport.Verdicts(mixed));
        var never = Results(("cpu", 64, 50_000), ("cuda", 64, 10_000), ("cpu", 1024, 200_000), ("cuda", 1024, 100_000));
        Assert.Equal(["lecture: the CPU backend is faster at every batch size measured (CUDA's best: x0.5 at batch 1024)."], BenchReport.Verdicts(never));

        byte[] png = BenchReport.ChartPng(results);
        Assert.Equal(PngSignature, png[..8]);
    }

    private static BenchResults Results(params (string Device, int Batch, double Rate)[] figures) => new(
        "gpunet bench", DateTimeOffset.UtcNow, "lecture", "synthetic", "SGD(lr=0.01)", 0, 1, 0, 42, BenchMachine.Current(),
        [new BenchDeviceInfo("cpu", "CPU (test)"), new BenchDeviceInfo("cuda", "NVIDIA (test)")],
        [.. figures.Select(f => new BenchPoint(f.Device, f.Device, "lecture", [784, 128, 64, 10], null, f.Batch, 10, f.Batch * 10 / f.Rate, f.Rate, DateTimeOffset.UtcNow))],
        []);
}
