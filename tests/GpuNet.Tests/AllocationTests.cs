using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>A training step is only backend calls: no managed allocation once the graph is built.</summary>
public class AllocationTests
{
    public static TheoryData<string> Losses() => ["sparse", "binary", "mse"];

    /// <summary>Bytes the calling thread allocates in three windows of 20 training steps.</summary>
    private static long[] AllocationWindows(TrainingStepRunner runner)
    {
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            runner.Run(20);
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        return windows;
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void ATrainingStepOnTheCpuBackendAllocatesNothing(string lossName)
    {
        using var backend = new CpuBackend();
        AssertStepsAllocateNothing(backend, lossName);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void ATrainingStepThroughTheComposedDefaultsAllocatesNothing(string lossName)
    {
        // every fused operation as its composition of core primitives (on the CPU backend's primitives): the scratch
        // buffers are allocated in the first steps and reused after
        using var cpu = new CpuBackend();
        AssertStepsAllocateNothing(new GpuNet.Kernels.Tests.CoreOnlyBackend(cpu), lossName);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void TrainingStepsWithAPartialLastBatchAllocateNothing(string lossName)
    {
        // 250 samples in batches of 16: every 16th step is the last batch of 10 rows, padded to 16 on the device
        using var backend = new CpuBackend();
        AssertStepsAllocateNothing(backend, lossName, samples: 250);
    }

    private static void AssertStepsAllocateNothing(IBackend backend, string lossName, int samples = 256)
    {
        var digits = Datasets.Mnist10k().Train.Range(0, samples);
        var data = lossName == "binary" ? new Dataset("parity", digits.Features, digits.Labels.Select(l => l % 2).ToArray(), 784, 2) : digits;
        Layer last = lossName == "binary" ? new Dense(1, "sigmoid") : new Dense(10, "softmax");
        Loss loss = lossName switch { "binary" => new BinaryCrossentropy(), "mse" => new MeanSquaredError(), _ => new SparseCategoricalCrossentropy() };
        using var model = new Sequential(new Dense(16, kernelRegularizer: Regularizer.Ridge(1e-4f)), new BatchNormalization(),
            new ActivationLayer("relu"), new Dropout(0.2f), new Dense(8, "tanh"), last);
        model.Compile(new Adam(0.001f), loss, backend);
        using var runner = model.PrepareTrainingSteps(data, 16, lastPartialBatch: samples % 16 != 0);
        runner.Run(50);
        // The runtime itself may allocate on this thread once in a while (tiered JIT promoting a hot method after
        // its call count is reached); an allocation made by the step would show in every window of 20 steps.
        var windows = AllocationWindows(runner);
        Assert.True(windows.Min() == 0, $"bytes allocated in three windows of 20 training steps: {string.Join(", ", windows)}");
    }

    [Fact]
    public void ATrainingStepWithAFrozenLayerAllocatesNothing()
    {
        // the frozen layer's weights are copied back after every update: device copies only
        var data = Datasets.Mnist10k().Train.Range(0, 256);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(16, "relu") { Trainable = false }, new BatchNormalization() { Trainable = false }, new Dense(10, "softmax"));
        model.Compile(new Adam(0.001f), new SparseCategoricalCrossentropy(), backend);
        using var runner = model.PrepareTrainingSteps(data, 16);
        runner.Run(50);
        var windows = AllocationWindows(runner);
        Assert.True(windows.Min() == 0, $"bytes allocated in three windows of 20 training steps: {string.Join(", ", windows)}");
    }

    [Theory]
    [InlineData("clipvalue")]
    [InlineData("clipnorm")]
    [InlineData("global_clipnorm")]
    public void AClippedTrainingStepAllocatesNothing(string clip)
    {
        var data = Datasets.Mnist10k().Train.Range(0, 256);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(10, "softmax"));
        var sgd = new Sgd(0.05f);
        switch (clip)
        {
            case "clipvalue": sgd.ClipValue = 0.01f; break;
            case "clipnorm": sgd.ClipNorm = 0.1f; break;
            default: sgd.GlobalClipNorm = 0.1f; break;
        }
        model.Compile(sgd, new SparseCategoricalCrossentropy(), backend);
        using var runner = model.PrepareTrainingSteps(data, 16);
        runner.Run(50);
        var windows = AllocationWindows(runner);
        Assert.True(windows.Min() == 0, $"{clip}: bytes allocated in three windows of 20 training steps: {string.Join(", ", windows)}");
    }

    [Fact]
    public void AMultiThreadedTrainingStepAllocatesNothing()
    {
        // The lecture model at batch 64: its GEMMs (64 x 784 x 128 and the backward pair) are split across the
        // worker pool, which, unlike Parallel.For, allocates nothing per call.
        var data = Datasets.Mnist10k().Train.Range(0, 512);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(128, "relu"), new Dense(64, "relu"), new Dense(10, "softmax"));
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend);
        using var runner = model.PrepareTrainingSteps(data, 64);
        runner.Run(50);
        var windows = AllocationWindows(runner);
        Assert.True(windows.Min() == 0, $"bytes allocated in three windows of 20 training steps: {string.Join(", ", windows)}");
    }
}
