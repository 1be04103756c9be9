using System.Diagnostics;
using GpuNet.Data;

namespace GpuNet.Models;

/// <summary>Timed training steps: samples per second of forward + backward + update, measured after a synchronization.</summary>
/// <param name="BatchSize">Rows per step.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="Elapsed">Wall time of the timed steps, from a synchronized start to a synchronized end.</param>
/// <param name="AllocatedBytes">Managed bytes the calling thread allocated during the timed steps (the steps run on it;
/// a backend that allocates per kernel launch shows here).</param>
public sealed record TrainingThroughput(int BatchSize, int Steps, TimeSpan Elapsed, long AllocatedBytes = 0)
{
    /// <summary>Untimed steps run before the clock started (the fixed ones and the adaptive ones).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Wall time of the untimed steps.</summary>
    public TimeSpan WarmupTime { get; init; }

    public double AllocatedBytesPerStep => AllocatedBytes / (double)Steps;

    public double SamplesPerSecond => BatchSize * (double)Steps / Elapsed.TotalSeconds;
    public double MillisecondsPerStep => Elapsed.TotalMilliseconds / Steps;
}

/// <summary>
/// Training steps on data already resident on the device, without epochs, shuffling or metrics read-back:
/// what a benchmark times. Each <see cref="Step"/> gathers the next whole batch by index, runs forward and
/// backward, and updates the parameters; nothing waits for the device until <see cref="Synchronize"/>.
/// </summary>
public sealed class TrainingStepRunner : IDisposable
{
    private readonly Sequential _model;
    private readonly Action<ReadOnlyMemory<int>, long> _step;
    private readonly IDisposable _data;
    private readonly int _batches, _samples;
    private readonly int[] _order;
    private long _iteration;

    internal TrainingStepRunner(Sequential model, int batchSize, int samples, Action<ReadOnlyMemory<int>, long> step, IDisposable data,
        bool lastPartialBatch = false)
    {
        _model = model;
        BatchSize = batchSize;
        _samples = samples;
        _batches = Math.Max(1, samples / batchSize) + (lastPartialBatch && samples % batchSize != 0 ? 1 : 0);
        _order = [.. Enumerable.Range(0, samples)];
        _step = step;
        _data = data;
    }

    public int BatchSize { get; }

    /// <summary>Queues one training step.</summary>
    public void Step()
    {
        int offset = (int)(_iteration % _batches) * BatchSize;
        _step(_order.AsMemory(offset, Math.Min(BatchSize, _samples - offset)), _iteration++);
    }

    /// <summary>Queues <paramref name="steps"/> training steps.</summary>
    public void Run(int steps)
    {
        for (int i = 0; i < steps; i++) Step();
    }

    /// <summary>Waits until every queued step has finished.</summary>
    public void Synchronize() => _model.Backend!.Synchronize();

    public void Dispose() => _data.Dispose();
}

public sealed partial class Sequential
{
    /// <summary>
    /// Builds the model for <paramref name="batchSize"/>, uploads <paramref name="data"/> once, and returns a
    /// runner of bare training steps over it (cycling over its whole batches, in order, and the smaller last batch too when
    /// <paramref name="lastPartialBatch"/>, as an epoch of Fit has). For benchmarks: it trains the model.
    /// </summary>
    public TrainingStepRunner PrepareTrainingSteps(Dataset data, int batchSize, bool lastPartialBatch = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Count < batchSize)
            throw new ArgumentException($"Training steps of batch {batchSize} need at least {batchSize} samples; the data has {data.Count}.", nameof(data));
        CheckOutputs(data);
        var graph = EnsureBuilt(data.FeatureCount, batchSize);
        if (graph.BatchCapacity < batchSize)
            throw new InvalidOperationException($"The model was built for batches of {graph.BatchCapacity}; use a new model for batch {batchSize}.");
        var onDevice = new DeviceData(Backend!, data, _lossNode!);
        CaptureFrozenWeights();
        return new TrainingStepRunner(this, batchSize, data.Count, (batch, iteration) => TrainStep(onDevice, batch.Span, iteration, 0), onDevice,
            lastPartialBatch);
    }

    /// <summary>
    /// Measures training throughput: <paramref name="warmupSteps"/> untimed and <paramref name="steps"/> timed
    /// steps of <see cref="PrepareTrainingSteps"/>, with the device synchronized before the clock starts and before
    /// it stops, and nothing else read back.
    /// </summary>
    /// <remarks>
    /// <para>Used by <c>gpunet bench</c>. It trains the model: use a throwaway one.</para>
    /// <para>With <paramref name="maxWarmup"/> the warm-up goes on after the fixed steps until the step rate stops rising:
    /// .NET's tiered JIT runs quickly compiled code first and swaps in optimized code in the background over the first
    /// second or two (at batch 64 the rate after 100 steps was half the rate after 2,000). It runs windows of at least
    /// <see cref="WarmupWindow"/> and stops after two windows in a row that are no more than 3% faster than the fastest
    /// before them, or when <paramref name="maxWarmup"/> has passed.</para>
    /// </remarks>
    public TrainingThroughput MeasureTrainingThroughput(Dataset data, int batchSize, int warmupSteps, int steps, TimeSpan maxWarmup = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWarmup, TimeSpan.Zero);
        using var runner = PrepareTrainingSteps(data, batchSize);
        var warmupClock = Stopwatch.StartNew();
        runner.Run(warmupSteps);
        runner.Synchronize();
        int warmedUp = warmupSteps + WarmUpUntilSteady(runner, maxWarmup, warmupClock);
        var warmupTime = warmupClock.Elapsed;
        var clock = new Stopwatch(); // created before the allocation count starts, so only the steps are counted
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        clock.Start();
        runner.Run(steps);
        runner.Synchronize();
        clock.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return new TrainingThroughput(batchSize, steps, clock.Elapsed, allocated) { WarmupSteps = warmedUp, WarmupTime = warmupTime };
    }

    /// <summary>The shortest window of the adaptive warm-up (<see cref="MeasureTrainingThroughput"/>).</summary>
    public static readonly TimeSpan WarmupWindow = TimeSpan.FromMilliseconds(100);

    /// <summary>Steps until the rate stops rising or <paramref name="budget"/> has passed on <paramref name="clock"/>; returns how many ran.</summary>
    private static int WarmUpUntilSteady(TrainingStepRunner runner, TimeSpan budget, Stopwatch clock)
    {
        if (budget <= TimeSpan.Zero) return 0;
        int total = 0, steady = 0;
        double best = 0;
        while (clock.Elapsed < budget && steady < 2)
        {
            var window = Stopwatch.StartNew();
            int n = 0;
            do
            {
                runner.Step();
                n++;
                if (n % 8 == 0 || window.Elapsed >= WarmupWindow) runner.Synchronize();
            } while (window.Elapsed < WarmupWindow && clock.Elapsed < budget);
            runner.Synchronize();
            total += n;
            double rate = n / window.Elapsed.TotalSeconds;
            steady = rate <= best * 1.03 ? steady + 1 : 0;
            best = Math.Max(best, rate);
        }
        return total;
    }
}
