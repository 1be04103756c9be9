using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// A training step is the same launch sequence with the same arguments every step: the values that change (learning rate,
/// bias corrections, the step counter of dropout and augmentation, the batch's rows) live in the graph's step-values
/// buffer, written by the step's one upload. Checked on the calls <see cref="RecordingBackend"/> logs during Fit.
/// </summary>
public class StepLaunchTests
{
    private const int Batch = 16, FullBatches = 4, Epochs = 2;

    /// <summary>Samples: four whole batches, and a last batch of 5 rows when <paramref name="partial"/>.</summary>
    private static Dataset Data(bool partial) => Datasets.Mnist10k().Train.Range(0, Batch * FullBatches + (partial ? 5 : 0));

    /// <summary>
    /// Fits <paramref name="model"/> on <paramref name="backend"/> and returns the log cut into training steps: each from the
    /// upload of the step values to the next one (a step's last segment in an epoch also holds the epoch's end).
    /// </summary>
    private static List<string[]> FitSteps(Sequential model, RecordingBackend backend, Dataset data, ImageAugmentation? augmentation = null)
    {
        model.Fit(data, new FitOptions { Epochs = Epochs, BatchSize = Batch, Seed = 3, Verbose = Verbosity.Silent, Augmentation = augmentation });
        var values = model.Graph!.StepValues.Buffer;
        string upload = $"Upload<Int32>(host[{values.Length}], {backend.Describe(values)})";
        var starts = backend.Calls.Select((call, i) => (call, i)).Where(c => c.call == upload).Select(c => c.i).ToList();
        Assert.Equal(Epochs * (FullBatches + (data.Count % Batch == 0 ? 0 : 1)), starts.Count); // one upload of the step values per step
        return [.. starts.Select((start, k) => backend.Calls.Skip(start).Take((k + 1 < starts.Count ? starts[k + 1] : backend.Calls.Count) - start).ToArray())];
    }

    /// <summary>The steps on whole batches, each cut at the end of its own work (before the epoch's end for the last of an epoch).</summary>
    private static List<string[]> WholeBatchSteps(List<string[]> steps, bool partial)
    {
        int perEpoch = FullBatches + (partial ? 1 : 0);
        int length = steps[0].Length; // the first step of the first epoch is followed by another step
        var whole = steps.Where((_, k) => k % perEpoch < FullBatches).ToList();
        Assert.All(whole, s => Assert.True(s.Length >= length, $"a step of {s.Length} calls, shorter than the first ({length})"));
        return [.. whole.Select(s => s[..length])];
    }

    private static void AssertIdentical(List<string[]> steps, string what)
    {
        Assert.True(steps.Count >= 2 * FullBatches - 1, $"{what}: {steps.Count} steps");
        for (int k = 1; k < steps.Count; k++)
        {
            var first = steps[0];
            var other = steps[k];
            int at = Enumerable.Range(0, Math.Min(first.Length, other.Length)).FirstOrDefault(i => first[i] != other[i], -1);
            Assert.True(at < 0 && first.Length == other.Length,
                $"{what}: step {k} differs from step 0 at call {at}: '{(at < 0 ? "" : first[at])}' vs '{(at < 0 ? "" : other[at])}'");
        }
    }

    /// <summary>The step values uploaded for each step (the learning rate and the counter are read back from them).</summary>
    private static List<int[]> StepUploads(Sequential model, RecordingBackend backend)
    {
        string values = backend.Describe(model.Graph!.StepValues.Buffer);
        return [.. backend.IntUploads.Where(u => u.Destination == values).Select(u => u.Data)];
    }

    private static float LearningRate(int[] values) => StepValueMath.ToFloat(values[StepValues.LearningRateIndex]);
    private static ulong Counter(int[] values) => StepValueMath.Counter(values[StepValues.StepIndex], values[StepValues.StepIndex + 1]);

    [Fact]
    public void SgdStepsLaunchTheSameCallsWithTheSameArguments()
    {
        using var backend = new RecordingBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(10, "softmax"));
        model.Compile(new Sgd(0.05f, momentum: 0.9f), new SparseCategoricalCrossentropy(), backend, seed: 1);
        var steps = FitSteps(model, backend, Data(partial: false));
        AssertIdentical(WholeBatchSteps(steps, partial: false), "SGD");
        Assert.Contains(steps[0], c => c.StartsWith("OptimizerUpdate(", StringComparison.Ordinal));

        // what changes is in the uploads: the counter, and the rows of each epoch, a permutation of the samples
        var uploads = StepUploads(model, backend);
        Assert.Equal(Enumerable.Range(0, Epochs * FullBatches).Select(i => (ulong)i), uploads.Select(Counter));
        Assert.All(uploads, u => Assert.Equal(0.05f, LearningRate(u)));
        for (int e = 0; e < Epochs; e++)
        {
            var rows = uploads.Skip(e * FullBatches).Take(FullBatches).SelectMany(u => u[StepValues.BatchIndexOffset..]).Order();
            Assert.Equal(Enumerable.Range(0, Batch * FullBatches), rows);
        }
    }

    [Fact]
    public void AdamStepsWithAScheduleLaunchTheSameCallsWithTheSameArguments()
    {
        using var backend = new RecordingBackend();
        using var model = new Sequential(new Dense(16, "relu"), new BatchNormalization(), new Dense(10, "softmax"));
        var schedule = new ExponentialDecay(0.01f, decaySteps: 2, decayRate: 0.5f);
        var adam = new Adam(schedule);
        model.Compile(adam, new SparseCategoricalCrossentropy(), backend, seed: 1);
        var steps = FitSteps(model, backend, Data(partial: false));
        AssertIdentical(WholeBatchSteps(steps, partial: false), "Adam with a schedule");

        // the rate and bias corrections of every step reached the device, as the host computes them
        var uploads = StepUploads(model, backend);
        for (int t = 0; t < uploads.Count; t++)
        {
            var h = adam.StepParameters(t, t / FullBatches);
            Assert.Equal(schedule.Rate(t, 0), LearningRate(uploads[t]));
            Assert.Equal(h.BiasCorrection1, StepValueMath.ToFloat(uploads[t][StepValues.LearningRateIndex + 1]));
            Assert.Equal(h.BiasCorrection2, StepValueMath.ToFloat(uploads[t][StepValues.LearningRateIndex + 2]));
        }
        Assert.NotEqual(LearningRate(uploads[0]), LearningRate(uploads[^1]));
    }

    [Fact]
    public void DropoutStepsLaunchTheSameCallsWithTheSameArgumentsAndDrawNewMasks()
    {
        using var backend = new RecordingBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dropout(0.5f), new Dense(10, "softmax"));
        model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 1);
        var steps = FitSteps(model, backend, Data(partial: false));
        AssertIdentical(WholeBatchSteps(steps, partial: false), "dropout");
        Assert.Contains(steps[0], c => c.StartsWith("Dropout(", StringComparison.Ordinal));

        // one mask per step, each the Philox mask of its step (the counter read on the device), all different
        var masks = backend.DropoutMasks;
        Assert.Equal(Epochs * FullBatches, masks.Count);
        var args = steps[0].First(c => c.StartsWith("Dropout(", StringComparison.Ordinal)).Split(", ");
        ulong seed = ulong.Parse(args[5]);
        uint purpose = uint.Parse(args[6]);
        for (int t = 0; t < masks.Count; t++)
            for (int i = 0; i < masks[t].Length; i += 7)
                Assert.Equal(RandomMath.DropoutFactor(i, (ulong)t, purpose, seed, 0.5f, 2f), masks[t][i]);
        for (int t = 1; t < masks.Count; t++) Assert.NotEqual(masks[t - 1], masks[t]);
    }

    [Fact]
    public void AugmentedStepsLaunchTheSameCallsWithTheSameArguments()
    {
        using var backend = new RecordingBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(10, "softmax"));
        model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 1);
        var augmentation = new ImageAugmentation(28, 28, new AugmentationSettings { MaxShift = 2, MaxRotationDegrees = 10, NoiseStddev = 0.1f });
        var steps = FitSteps(model, backend, Data(partial: false), augmentation);
        AssertIdentical(WholeBatchSteps(steps, partial: false), "augmentation");
        Assert.Contains(steps[0], c => c.StartsWith("AugmentImages(", StringComparison.Ordinal));
    }

    [Fact]
    public void APartialLastBatchLaunchesTheSameCallsAsAWholeOne()
    {
        // the last batch of 5 rows runs at the batch's 16 rows, its padding weighted out on the device: the same calls with
        // the same arguments as every whole batch, with batch normalization, dropout, a regularizer and Adam
        using var backend = new RecordingBackend();
        using var model = new Sequential(new Dense(16, "relu", kernelRegularizer: Regularizer.Ridge(1e-3f)), new BatchNormalization(),
            new Dropout(0.5f), new Dense(10, "softmax"));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 1);
        var steps = FitSteps(model, backend, Data(partial: true));
        Assert.True(model.Graph!.PadsPartialBatches);
        int length = steps[0].Length;
        Assert.All(steps, s => Assert.True(s.Length >= length, $"a step of {s.Length} calls, shorter than the first ({length})"));
        AssertIdentical([.. steps.Select(s => s[..length])], "whole batches and partial ones");
        // the row weights of each step went up with its step values: the last batch of each epoch has 5 real rows
        string weights = backend.Describe(model.Graph.StepValues.RowWeights);
        var counts = backend.FloatUploads.Where(u => u.Destination == weights).Select(u => (int)u.Data[^1]).ToList();
        Assert.Equal([16, 16, 16, 16, 5, 16, 16, 16, 16, 5], counts);
    }

    /// <summary>A user-written momentum rule (v = m v + g; w -= lr v) that reads its scheduled rate on the device.</summary>
    private sealed class UserMomentum(LearningRateSchedule schedule) : Optimizer(schedule)
    {
        public override string Name => "user_momentum";

        protected override int StateBuffers => 1;

        protected override void Update(IBackend backend, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients,
            IReadOnlyList<DeviceBuffer<float>> slots, int count, long iteration, int epoch)
        {
            backend.Scale(slots[0], count, 0.9f);
            backend.SgdUpdate(slots[0], gradients, count, -1f);
            var (values, index) = StepLearningRate;
            backend.SgdUpdate(parameters, slots[0], count, values, index);
        }
    }

    [Fact]
    public void AUserWrittenOptimizerWithAScheduleLaunchesTheSameCalls()
    {
        using var backend = new RecordingBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(10, "softmax"));
        model.Compile(new UserMomentum(new ExponentialDecay(0.05f, decaySteps: 2, decayRate: 0.7f)), new SparseCategoricalCrossentropy(), backend, seed: 1);
        var steps = FitSteps(model, backend, Data(partial: true));
        int length = steps[0].Length;
        AssertIdentical([.. steps.Select(s => s[..length])], "a user-written optimizer with a schedule");
        // the rate each step uploaded followed the schedule
        var rates = StepUploads(model, backend).Select(LearningRate).ToList();
        var schedule = new ExponentialDecay(0.05f, decaySteps: 2, decayRate: 0.7f);
        Assert.Equal(Enumerable.Range(0, rates.Count).Select(i => schedule.Rate(i, 0)), rates);
    }

    [Fact]
    public void AnAdamStepWithAScheduleMatchesTheHostComputedUpdate()
    {
        // Optimizer.Step through the step values gives the update OptimizerMath computes from the host's StepParameters,
        // bit for bit, over steps whose rate and bias corrections all differ
        using var backend = new CpuBackend();
        using var graph = new ComputationGraph(backend, 1);
        graph.CreateParameter("w", 5, 7);
        graph.Seal();
        var adam = new Adam(new CosineDecay(0.02f, decaySteps: 6), beta1: 0.8f, beta2: 0.95f);
        adam.Build(graph);
        var w = Enumerable.Range(0, 35).Select(i => MathF.Sin(i)).ToArray();
        var m = new float[35];
        var v = new float[35];
        backend.Upload<float>(w, graph.ParameterBuffer);
        for (int t = 0; t < 6; t++)
        {
            var g = Enumerable.Range(0, 35).Select(i => MathF.Cos(i * (t + 1))).ToArray();
            backend.Upload<float>(g, graph.GradientBuffer);
            adam.Step(graph, t, epoch: t / 3);
            var h = adam.StepParameters(t, t / 3);
            for (int i = 0; i < w.Length; i++) w[i] = OptimizerMath.Update(h, w[i], g[i], ref m[i], ref v[i]);
            Assert.Equal(h.LearningRate, graph.StepValues.LearningRate);
        }
        var actual = new float[35];
        backend.Download(graph.ParameterBuffer, actual);
        Assert.Equal(w, actual);
    }
}
