using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;

namespace GpuNet.Cli;

/// <summary>One measured point: a device, a model and a batch size.</summary>
/// <param name="Device">cpu, cuda or ilgpu-cpu.</param>
/// <param name="DeviceName">The backend's own description, e.g. "CPU (2 threads, AVX-512)".</param>
/// <param name="Model">lecture, wide, or width-N.</param>
/// <param name="Layers">Every layer's width, input to output.</param>
/// <param name="Width">The sweep width, or null outside a --widths sweep.</param>
/// <param name="Batch">Rows per step.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="Seconds">Wall time of the timed steps (synchronized start and end).</param>
/// <param name="SamplesPerSecond">Batch x Steps / Seconds.</param>
/// <param name="MeasuredAt">When the point finished.</param>
/// <param name="BytesPerStep">Managed bytes allocated per timed step on the stepping thread (0 is the goal: no allocation in a training step).</param>
internal sealed record BenchPoint(
    string Device, string DeviceName, string Model, int[] Layers, int? Width, int Batch,
    int Steps, double Seconds, double SamplesPerSecond, DateTimeOffset MeasuredAt, double BytesPerStep = 0);

/// <summary>Measures training throughput of fresh lecture-style models on synthetic MNIST-shaped data.</summary>
internal static class BenchRunner
{
    /// <summary>Rows of synthetic data at least, so small batches cycle over several thousand samples as in training.</summary>
    public const int MinDataRows = 4096;

    /// <summary>Timed runs after the first, at most, to reach the minimum time.</summary>
    public const int MaxExtraRuns = 4;

    /// <summary>
    /// Random features in [0, 1) (pixel intensities) and uniform labels, of MNIST's shape:
    /// max(<paramref name="maxBatch"/>, <see cref="MinDataRows"/>) rows x 784 features, 10 classes.
    /// </summary>
    public static Dataset SyntheticData(int maxBatch, int seed)
    {
        int rows = Math.Max(maxBatch, MinDataRows);
        var random = new Random(seed);
        var features = new float[(long)rows * BenchModel.Features];
        for (long i = 0; i < features.LongLength; i++) features[i] = random.NextSingle();
        var labels = new int[rows];
        for (int i = 0; i < rows; i++) labels[i] = random.Next(BenchModel.Classes);
        return new Dataset("synthetic", features, labels, BenchModel.Features, BenchModel.Classes);
    }

    /// <summary>The lecture's architecture with the given hidden widths: Dense(w, relu)..., Dense(10, softmax).</summary>
    public static Sequential BuildModel(BenchModel model) =>
        new([.. model.Hidden.Select(w => (Layer)new Dense(w, "relu")), new Dense(BenchModel.Classes, "softmax")]);

    /// <summary>
    /// Measures one point on a model built for <paramref name="batch"/>: <paramref name="s"/>.Warmup untimed
    /// steps and the adaptive warm-up (up to WarmupSeconds, until the rate stops rising), then timed steps until at least MinSteps steps and MinSeconds seconds are on the clock.
    /// </summary>
    /// <remarks>
    /// The first timed run has MinSteps steps; while the clock shows less than MinSeconds, the rate so far
    /// sizes another run to fill the remaining time (at most <see cref="MaxExtraRuns"/>), and the point
    /// reports the runs together (steps and seconds summed). Each run synchronizes the device before and
    /// after its clock, and uploads the data before it, off the clock.
    /// </remarks>
    public static BenchPoint Measure(IBackend backend, BenchDevice device, BenchModel model, Dataset data, int batch, BenchSettings s)
    {
        using var network = BuildModel(model);
        network.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend, seed: (ulong)s.Seed);
        var first = network.MeasureTrainingThroughput(data, batch, s.Warmup, s.MinSteps, TimeSpan.FromSeconds(s.WarmupSeconds));
        long steps = first.Steps, bytes = first.AllocatedBytes;
        double seconds = first.Elapsed.TotalSeconds;
        var last = first;
        for (int round = 0; seconds < s.MinSeconds && round < MaxExtraRuns; round++)
        {
            // Sized from the latest run's rate (the first one may include cold caches and first calls, which would
            // make every later run too short) and 10% over it, so one more run is usually enough.
            double perStep = Math.Max(last.Elapsed.TotalSeconds / last.Steps, 1e-9);
            long more = (long)Math.Ceiling((s.MinSeconds - seconds) / perStep * 1.1);
            last = network.MeasureTrainingThroughput(data, batch, 0, (int)Math.Clamp(more, 1, 100_000_000));
            steps += last.Steps;
            bytes += last.AllocatedBytes;
            seconds += last.Elapsed.TotalSeconds;
        }
        return new BenchPoint(device.Key, backend.Name, model.Name, model.Layers, model.Width, batch,
            (int)steps, seconds, batch * (double)steps / seconds, DateTimeOffset.UtcNow, bytes / (double)steps);
    }

    /// <summary>Whether <paramref name="device"/> leaves the point out: ilgpu-cpu past batch 64 or hidden width 64.</summary>
    public static bool Skips(BenchDevice device, BenchModel model, int batch) =>
        device == BenchDevice.IlgpuCpu && (batch > BenchDevice.IlgpuCpuMaxBatch || model.MaxWidth > BenchDevice.IlgpuCpuMaxWidth);
}
