using System.Diagnostics;
using GpuNet.Data;

namespace GpuNet.Models;

/// <summary>Timed training steps: samples per second of forward + backward + update, measured after a synchronization.</summary>
/// <param name="BatchSize">Rows per step.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="Elapsed">Wall time of the timed steps, from a synchronized start to a synchronized end.</param>
public sealed record TrainingThroughput(int BatchSize, int Steps, TimeSpan Elapsed)
{
    public double SamplesPerSecond => BatchSize * (double)Steps / Elapsed.TotalSeconds;
    public double MillisecondsPerStep => Elapsed.TotalMilliseconds / Steps;
}

public sealed partial class Sequential
{
    /// <summary>
    /// Measures training throughput: the model is built for <paramref name="batchSize"/>, <paramref name="data"/>
    /// is uploaded once, then <paramref name="warmupSteps"/> untimed and <paramref name="steps"/> timed steps
    /// (gather a batch by index, forward, backward, optimizer update) run back to back, cycling over the data.
    /// The device is synchronized before the clock starts and before it stops, and nothing else is read back.
    /// </summary>
    /// <remarks>Used by <c>gpunet bench</c> and the BenchmarkDotNet suites. It trains the model: use a throwaway one.</remarks>
    public TrainingThroughput MeasureTrainingThroughput(Dataset data, int batchSize, int warmupSteps, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        if (data.Count < batchSize)
            throw new ArgumentException($"Measuring batch {batchSize} needs at least {batchSize} samples; the data has {data.Count}.", nameof(data));
        CheckOutputs(data);
        var graph = EnsureBuilt(data.FeatureCount, batchSize);
        if (graph.BatchCapacity < batchSize)
            throw new InvalidOperationException($"The model was built for batches of {graph.BatchCapacity}; measure with a new model for batch {batchSize}.");
        var backend = Backend!;
        using var onDevice = new DeviceData(backend, data, _lossNode!);
        int batchesPerPass = Math.Max(1, data.Count / batchSize);
        long iteration = 0;
        void Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                // cycle over the whole batches of the data
                int offset = (int)(iteration % batchesPerPass) * batchSize;
                int rows = Math.Min(batchSize, data.Count - offset);
                backend.GatherRows(onDevice.Features, onDevice.Index, offset, rows, data.FeatureCount, _input!.Value);
                GatherTargets(onDevice, offset, rows);
                graph.Forward(rows, training: true);
                graph.Backward();
                Optimizer!.Step(graph, iteration++);
            }
        }
        Run(warmupSteps);
        backend.Synchronize();
        var clock = Stopwatch.StartNew();
        Run(steps);
        backend.Synchronize();
        clock.Stop();
        return new TrainingThroughput(batchSize, steps, clock.Elapsed);
    }
}
