using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;

namespace GpuNet.Bench;

/// <summary>Samples per second from the mean time of one training step (the benchmark's Batch parameter over the mean).</summary>
public sealed class SamplesPerSecondColumn : IColumn
{
    public string Id => nameof(SamplesPerSecondColumn);
    public string ColumnName => "samples/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Training samples per second: batch size / mean time of a step";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var batch = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Batch")?.Value;
        return meanNs is > 0 && batch is int b ? (b / (meanNs.Value * 1e-9)).ToString("N0") : "-";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}

public sealed class SamplesPerSecondConfig : ManualConfig
{
    public SamplesPerSecondConfig() => AddColumn(new SamplesPerSecondColumn());
}

/// <summary>
/// One full training step (gather the batch on the device, forward, backward, SGD update) of the lecture's
/// 784-128-64-10 model and of a wide 784-2048-2048-10 model, per backend and batch size. The device is
/// synchronized inside the measured region, and the kernels are compiled, the model built and the data uploaded in the global setup.
/// </summary>
[Config(typeof(SamplesPerSecondConfig))]
public class TrainingStepBenchmarks
{
    private IBackend? _backend;
    private Sequential? _model;
    private TrainingStepRunner? _runner;

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    [Params("lecture", "wide")]
    public string Model { get; set; } = "lecture";

    [Params(64, 256, 1024, 4096)]
    public int Batch { get; set; } = 64;

    public static IEnumerable<string> Devices => BenchDevices.Available;

    [GlobalSetup]
    public void Setup()
    {
        _backend = BenchDevices.Create(Device);
        var data = Synthetic(Math.Max(Batch, 4096));
        int width = Model == "wide" ? 2048 : 128;
        _model = new Sequential(new Dense(width, "relu"), new Dense(Model == "wide" ? 2048 : 64, "relu"), new Dense(10, "softmax"));
        _model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), _backend);
        _runner = _model.PrepareTrainingSteps(data, Batch); // builds the graph, uploads the data once
        _runner.Run(3);                                     // compiles the kernels
        _runner.Synchronize();
    }

    /// <summary>One training step, synchronized inside the measured region.</summary>
    [Benchmark]
    public void Step()
    {
        _runner!.Step();
        _runner.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner?.Dispose();
        _model?.Dispose();
        _backend?.Dispose();
    }

    /// <summary>Seeded random pixels in [0, 1) and labels 0..9, MNIST-shaped.</summary>
    internal static Dataset Synthetic(int rows, int features = 784)
    {
        var random = new Random(7);
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        var y = Enumerable.Range(0, rows).Select(_ => random.Next(10)).ToArray();
        return new Dataset("synthetic", x, y, features, 10);
    }
}
