using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Initializers;
using GpuNet.Layers;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Extensions.Tests;

/// <summary>User-written losses (<see cref="Huber"/> per element, <see cref="WeightedMse"/> as a 1 x 1 mean): hand-computed
/// values, training with Fit, and the gradient of one step by hand.</summary>
public class CustomLossTests
{
    // y = 2 x + 1 on 64 points in [-1, 1], every eighth target an outlier (+6): Huber's use case.
    private static Dataset Line()
    {
        var x = Enumerable.Range(0, 64).Select(i => -1f + 2f * i / 63).ToArray();
        var y = x.Select((v, i) => 2 * v + 1 + (i % 8 == 0 ? 6f : 0f)).ToArray();
        return Dataset.ForRegression("line", x, y, 1);
    }

    [Fact]
    public void HuberEqualsItsHandComputedValue()
    {
        // errors 0.5, -2, 1, 3 with delta 1: 0.5 * 0.25 = 0.125; 1 * (2 - 0.5) = 1.5; 0.5 * 1 = 0.5; 1 * (3 - 0.5) = 2.5; mean 4.625 / 4
        using var backend = new CpuBackend();
        Assert.Equal(1.15625f, new Huber(1f).Compute(backend, [0, 0, 0, 0], [0.5f, -2f, 1f, 3f], 2, 2), 1e-6f);
        // delta 2: 0.125, 2, 0.5, 2 * (3 - 1) = 4; mean 6.625 / 4
        Assert.Equal(1.65625f, new Huber(2f).Compute(backend, [1, 1, 1, 1], [1.5f, -1f, 2f, 4f], 4, 1), 1e-6f);
    }

    [Fact]
    public void WeightedMseEqualsItsHandComputedValue()
    {
        // rows (1, 2) and (-1, 0) against zeros, weights (1, 3): (1 + 12 + 1 + 0) / 4 = 3.5
        using var backend = new CpuBackend();
        Assert.Equal(3.5f, new WeightedMse(1f, 3f).Compute(backend, [0, 0, 0, 0], [1f, 2f, -1f, 0f], 2, 2), 1e-6f);
    }

    [Fact]
    public void FitWithHuberTrainsAndEvaluateIsItsMean()
    {
        using var backend = new CpuBackend();
        var data = Line();
        using var model = new Sequential(new Dense(8, "tanh"), new Dense(1));
        var huber = new Huber(1f);
        model.Compile(new Adam(0.05f), huber, backend);
        var history = model.Fit(data, new FitOptions { Epochs = 100, BatchSize = 16 });
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss * 0.7, $"losses {history.Epochs[0].Loss} -> {history.Epochs[^1].Loss}");
        float[] predictions = model.Predict(data.Features);
        // robust to the outliers: 7/8 of the points pull with their error e, 1/8 with delta = 1 at most, so the line sits about
        // 1/7 above the true one (the mean squared error's would sit 6/8 = 0.75 above)
        float[] middle = model.Predict([0f]);
        Assert.True(Math.Abs(middle[0] - 1f) < 0.3f, $"f(0) = {middle[0]}; the true line gives 1");
        Assert.Equal(huber.Compute(backend, data.Targets!, predictions, data.Count, 1), model.Evaluate(data).Loss, 1e-5);
    }

    [Fact]
    public void OneStepOfAOneWeightModelFollowsTheHandComputedGradient()
    {
        // y = w x with w = 0.5, x = 2, t = 3: e = -2, beyond delta 1, so dL/dy = -delta = -1 and dL/dw = -1 * x = -2;
        // SGD with lr 0.1: w = 0.5 + 0.2 = 0.7. The loss of that first step: 1 * (2 - 0.5) = 1.5.
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(1, useBias: false, kernelInitializer: new Constant(0.5f), name: "w"));
        model.Compile(new Sgd(0.1f), new Huber(1f), backend);
        var history = model.Fit(Dataset.ForRegression("one", [2f], [3f], 1), new FitOptions { Epochs = 1, BatchSize = 1 });
        Assert.Equal(1.5, history.Epochs[0].Loss, 1e-6);
        Assert.Equal(0.7f, model.GetWeights("w")[0].Data[0], 1e-6f);
    }

    [Fact]
    public void FitWithAOneByOneMeanLossTrains()
    {
        using var backend = new CpuBackend();
        var x = Enumerable.Range(0, 64).Select(i => i / 63f).ToArray();
        var y = x.SelectMany(v => new[] { v, 1 - v }).ToArray();
        var data = Dataset.ForRegression("two", x, y, 1, 2);
        using var model = new Sequential(new Dense(2));
        var loss = new WeightedMse(1f, 3f);
        model.Compile(new Sgd(0.1f), loss, backend);
        var history = model.Fit(data, new FitOptions { Epochs = 40, BatchSize = 16 });
        Assert.True(history.Epochs[^1].Loss < 0.1 * history.Epochs[0].Loss, $"losses {history.Epochs[0].Loss} -> {history.Epochs[^1].Loss}");
        Assert.Equal(loss.Compute(backend, y, model.Predict(x), 64, 2), model.Evaluate(data).Loss, 1e-5);
    }

    [Fact]
    public void AUserCrossEntropyGetsOneHotTargetsAndTrainsLikeTheBuiltInOne()
    {
        // class labels reach a user loss as one-hot rows; -sum t log p on the softmax output is the fused built-in's loss
        var data = CustomLayerTests.Digits.Value;
        History Train(Losses.Loss loss)
        {
            using var backend = new CpuBackend();
            using var model = new Sequential(new Dense(32, "relu"), new Dense(10, "softmax"));
            model.Compile(new Sgd(0.05f), loss, backend, seed: 11);
            return model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 32 });
        }
        var builtIn = Train(new Losses.SparseCategoricalCrossentropy());
        var custom = Train(new MyCrossEntropy());
        for (int e = 0; e < builtIn.Epochs.Count; e++)
        {
            Assert.Equal(builtIn.Epochs[e].Loss, custom.Epochs[e].Loss, 1e-3);
            Assert.Equal(builtIn.Epochs[e].Accuracy, custom.Epochs[e].Accuracy, 2);
        }
    }

    [Fact]
    public void ATrainingStepWithUserActivationLossAndOptimizerAllocatesNothing()
    {
        using var backend = new CpuBackend();
        var data = Line();
        using var model = new Sequential(new Dense(8, MyActivations.QuickGelu), new Residual(), new Dense(1));
        model.Compile(new HeavyBall(0.01f, 0.9f), new Huber(1f), backend);
        using var runner = model.PrepareTrainingSteps(data, 16);
        runner.Run(50);
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            runner.Run(20);
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - start;
        }
        Assert.True(windows.Min() == 0, $"bytes allocated in three windows of 20 training steps: {string.Join(", ", windows)}");
    }

    [Fact]
    public void LoadingAModelWithAnUnregisteredLossOrOptimizerSaysWhichAndHowToRegisterIt()
    {
        using var backend = new CpuBackend();
        var data = Line();
        string path = Path.Combine(Path.GetTempPath(), $"gpunet-unregistered-loss-{Guid.NewGuid():N}.safetensors");
        try
        {
            foreach (var (optimizer, loss, expected) in new (Optimizer, Losses.Loss, string)[]
                     {
                         (new Sgd(0.1f), new NeverRegisteredLoss(), "CustomObjects.RegisterLoss(\"never_registered_loss\""),
                         (new NeverRegisteredSgd(0.1f), new Losses.MeanSquaredError(), "CustomObjects.RegisterOptimizer(\"NeverRegisteredSgd\""),
                     })
            {
                using (var model = new Sequential(new Dense(1)))
                {
                    model.Compile(optimizer, loss, backend);
                    model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 16 });
                    model.Save(path);
                }
                var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, backend));
                Assert.Contains(expected, e.Message);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ARegisteredLossRoundTripsThroughSaveAndLoad()
    {
        Huber.Register();
        using var backend = new CpuBackend();
        var data = Line();
        string path = Path.Combine(Path.GetTempPath(), $"gpunet-custom-loss-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var model = new Sequential(new Dense(4, "tanh"), new Dense(1)))
            {
                model.Compile(new Sgd(0.1f), new Huber(0.5f), backend);
                model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 16 });
                model.Save(path);
            }
            using var loaded = Sequential.Load(path, backend);
            Assert.Equal(0.5f, Assert.IsType<Huber>(loaded.Loss).Delta);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
