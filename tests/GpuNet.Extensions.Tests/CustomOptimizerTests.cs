using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Initializers;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Extensions.Tests;

/// <summary>A user-written optimizer (<see cref="HeavyBall"/>, written with backend element-wise operations): two steps by
/// hand, the lecture's model trained like the built-in SGD momentum, and a save and load with its slot.</summary>
public class CustomOptimizerTests
{
    [Fact]
    public void TwoStepsEqualTheHandComputedOnes()
    {
        // y = w x, L = (w x - t)^2 with x = 2, t = 3, w0 = 0.5: g1 = 2 (1 - 3) 2 = -8, v1 = -8, w1 = 0.5 + 0.1 * 8 = 1.3;
        // g2 = 2 (2.6 - 3) 2 = -1.6, v2 = 0.9 (-8) - 1.6 = -8.8, w2 = 1.3 + 0.88 = 2.18.
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(1, useBias: false, kernelInitializer: new Constant(0.5f), name: "w"));
        model.Compile(new HeavyBall(0.1f, 0.9f), new MeanSquaredError(), backend);
        var data = Dataset.ForRegression("one", [2f], [3f], 1);
        model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 1 });
        Assert.Equal(1.3f, model.GetWeights("w")[0].Data[0], 1e-6f);
        model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 1 });
        Assert.Equal(2.18f, model.GetWeights("w")[0].Data[0], 1e-5f);
    }

    [Fact]
    public void TwoStepsWithADecayingRateEqualTheHandComputedOnes()
    {
        // the rate read on the device follows the schedule: lr0 = 0.1, lr1 = 0.1 x 0.5 = 0.05 (decay every step).
        // g1 = -8, v1 = -8, w1 = 0.5 + 0.1 * 8 = 1.3; g2 = -1.6, v2 = -8.8, w2 = 1.3 + 0.05 * 8.8 = 1.74.
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(1, useBias: false, kernelInitializer: new Constant(0.5f), name: "w"));
        model.Compile(new HeavyBall(new ExponentialDecay(0.1f, decaySteps: 1, decayRate: 0.5f), 0.9f), new MeanSquaredError(), backend);
        var data = Dataset.ForRegression("one", [2f], [3f], 1);
        model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 1 });
        Assert.Equal(1.74f, model.GetWeights("w")[0].Data[0], 1e-5f);
    }

    [Fact]
    public void TheLectureModelTrainsAsWithTheBuiltInSgdMomentum()
    {
        // With a constant rate, PyTorch's v = m v + g; w -= lr v and Keras' v = m v - lr g; w += v take the same steps.
        var data = CustomLayerTests.Digits.Value;
        History Train(Optimizer optimizer)
        {
            using var backend = new CpuBackend();
            using var model = new Sequential(new Dense(128, "relu"), new Dense(64, "relu"), new Dense(10, "softmax"));
            model.Compile(optimizer, new SparseCategoricalCrossentropy(), backend, seed: 5);
            return model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 32 });
        }
        var builtIn = Train(new Sgd(0.01f, momentum: 0.9f));
        var custom = Train(new HeavyBall(0.01f, 0.9f));
        Assert.True(custom.Epochs[^1].Loss < custom.Epochs[0].Loss * 0.5, $"losses {string.Join(", ", custom.Epochs.Select(e => e.Loss))}");
        for (int e = 0; e < builtIn.Epochs.Count; e++)
            Assert.Equal(builtIn.Epochs[e].Loss, custom.Epochs[e].Loss, 1e-3);
    }

    [Fact]
    public void ARegisteredOptimizerRoundTripsThroughSaveAndLoadWithItsSlot()
    {
        HeavyBall.Register();
        var data = CustomLayerTests.Digits.Value;
        string path = Path.Combine(Path.GetTempPath(), $"gpunet-custom-optimizer-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var backend = new CpuBackend();
            // uninterrupted: two epochs; resumed: one, saved, loaded, one more (the velocity slot must travel with the file)
            using var whole = new Sequential(new Dense(16, "relu"), new Dense(10, "softmax"));
            whole.Compile(new HeavyBall(0.02f, 0.9f), new SparseCategoricalCrossentropy(), backend, seed: 9);
            var expected = whole.Fit(data, new FitOptions { Epochs = 2, BatchSize = 32 });

            using (var first = new Sequential(new Dense(16, "relu", name: whole.Layers[0].Name), new Dense(10, "softmax", name: whole.Layers[1].Name)))
            {
                first.Compile(new HeavyBall(0.02f, 0.9f), new SparseCategoricalCrossentropy(), backend, seed: 9);
                first.Fit(data, new FitOptions { Epochs = 1, BatchSize = 32 });
                first.Save(path);
            }
            using var loaded = Sequential.Load(path, backend);
            Assert.Equal(0.9f, Assert.IsType<HeavyBall>(loaded.Optimizer).Momentum);
            var resumed = loaded.Fit(data, new FitOptions { Epochs = 2, InitialEpoch = 1, BatchSize = 32 });
            Assert.Equal(expected.Epochs[^1].Loss, resumed.Epochs[^1].Loss, 1e-5);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
