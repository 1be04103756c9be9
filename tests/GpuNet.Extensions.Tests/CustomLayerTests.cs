using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Extensions.Tests;

/// <summary>A user-written layer (<see cref="MyDense"/>, <see cref="Residual"/>): built from public graph operations, it trains
/// inside Sequential, shows in Summary, freezes, allocates nothing per step and round-trips through Save/Load.</summary>
public class CustomLayerTests
{
    internal static readonly Lazy<Dataset> Digits = new(() => Datasets.Mnist10k().Train.Range(0, 512));

    private static History Train(Layer hidden, int epochs = 3)
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(hidden, new Dense(10, "softmax", name: "out"));
        model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 7);
        return model.Fit(Digits.Value, new FitOptions { Epochs = epochs, BatchSize = 32 });
    }

    [Fact]
    public void AUserWrittenDenseLayerFollowsTheBuiltInDensesLossCurve()
    {
        // Same seed, same initializers, same weight order: the custom layer starts from Dense's weights, so if its gradients
        // reach its kernel and bias, every epoch's loss is Dense's.
        var builtIn = Train(new Dense(32, "relu", name: "hidden"));
        var custom = Train(new MyDense(32, "relu", name: "hidden"));
        Assert.True(builtIn.Epochs[^1].Loss < builtIn.Epochs[0].Loss * 0.8, "the reference trains");
        for (int e = 0; e < builtIn.Epochs.Count; e++)
            Assert.Equal(builtIn.Epochs[e].Loss, custom.Epochs[e].Loss, 1e-5);
    }

    [Fact]
    public void OnIlgpusAcceleratorTooTheUserLayerFollowsDense()
    {
        // the graph operations are backend primitives, so a user layer runs on every backend (here ILGPU's CPU accelerator)
        var data = Digits.Value.Range(0, 128);
        using var backend = Kernels.IlgpuBackend.CreateCpu();
        double[] Losses(Layer hidden)
        {
            using var model = new Sequential(hidden, new Dense(10, "softmax", name: "out"));
            model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 7);
            return [.. model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 32 }).Epochs.Select(e => e.Loss)];
        }
        var builtIn = Losses(new Dense(8, "relu", name: "hidden"));
        var custom = Losses(new MyDense(8, "relu", name: "hidden"));
        for (int e = 0; e < builtIn.Length; e++) Assert.Equal(builtIn[e], custom[e], 1e-5);
    }

    [Fact]
    public void AResidualLayerTrainsItsWeights()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(32, "relu", name: "in"), new Residual(name: "block"), new Dense(10, "softmax", name: "out"));
        model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend, seed: 3);
        var before = model.Evaluate(Digits.Value).Loss;
        var initial = model.GetWeights("block").Select(w => w.Data.ToArray()).ToArray();
        model.Fit(Digits.Value, new FitOptions { Epochs = 3, BatchSize = 32 });
        var trained = model.GetWeights("block");
        Assert.Equal(["block/kernel", "block/bias"], trained.Select(w => w.Name));
        Assert.Equal([32, 32], trained[0].Shape);
        Assert.Equal([32], trained[1].Shape);
        Assert.NotEqual(initial[0], trained[0].Data);
        Assert.Contains(trained[1].Data, b => b != 0f); // the bias starts at zero: only a gradient moves it
        Assert.True(model.Evaluate(Digits.Value).Loss < before * 0.7);
    }

    [Fact]
    public void SummaryShowsTheUserLayerWithItsParameterCount()
    {
        using var model = new Sequential(new MyDense(16, "relu", name: "mine"), new Residual(name: "block"), new Dense(10, "softmax", name: "out"));
        string summary = model.Summary(784);
        Assert.Contains("mine (MyDense)", summary);
        Assert.Contains("block (Residual)", summary);
        Assert.Contains("12,560", summary); // 784 x 16 + 16
        Assert.Contains("272", summary); // 16 x 16 + 16
        Assert.Contains($"Total params: {12_560 + 272 + 170:N0}", summary);
    }

    [Fact]
    public void AFrozenUserLayerKeepsItsWeights()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new MyDense(16, "relu", name: "mine"), new Dense(10, "softmax", name: "out"));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend);
        model.Evaluate(Digits.Value);
        var before = model.GetWeights("mine").Select(w => w.Data.ToArray()).ToArray();
        model.GetLayer("mine").Trainable = false;
        model.Fit(Digits.Value, new FitOptions { Epochs = 1, BatchSize = 32 });
        var after = model.GetWeights("mine");
        Assert.Equal(before[0], after[0].Data);
        Assert.Equal(before[1], after[1].Data);
    }

    [Fact]
    public void ATrainingStepThroughUserLayersAllocatesNothing()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new MyDense(16, "relu"), new Residual(), new Dense(10, "softmax"));
        model.Compile(new Adam(0.001f), new SparseCategoricalCrossentropy(), backend);
        using var runner = model.PrepareTrainingSteps(Digits.Value, 16);
        runner.Run(50);
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            runner.Run(20);
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - start;
        }
        // the runtime may allocate once in a while (tiered JIT); an allocation by the step would show in every window
        Assert.True(windows.Min() == 0, $"bytes allocated in three windows of 20 training steps: {string.Join(", ", windows)}");
    }

    [Fact]
    public void ARegisteredUserLayerRoundTripsThroughSaveAndLoad()
    {
        MyDense.Register();
        string path = Path.Combine(Path.GetTempPath(), $"gpunet-custom-layer-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var backend = new CpuBackend();
            float[] expected;
            using (var model = new Sequential(new MyDense(16, "tanh", name: "mine"), new Dense(10, "softmax", name: "out")))
            {
                model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend);
                model.Fit(Digits.Value, new FitOptions { Epochs = 1, BatchSize = 32 });
                expected = model.Predict(Digits.Value.Features);
                model.Save(path);
            }
            using var loaded = Sequential.Load(path, backend);
            var layer = Assert.IsType<MyDense>(loaded.GetLayer("mine"));
            Assert.Equal(16, layer.Units);
            Assert.Equal("tanh", layer.Activation.Name);
            Assert.Equal(expected, loaded.Predict(Digits.Value.Features));
            Assert.Contains("mine (MyDense)", loaded.Summary());
            loaded.Fit(Digits.Value, new FitOptions { Epochs = 1, BatchSize = 32 }); // and it trains on
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadingAnUnregisteredUserLayerSaysWhichClassAndHowToRegisterIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gpunet-unregistered-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var backend = new CpuBackend();
            using (var model = new Sequential(new NeverRegistered(name: "scaled"), new Dense(10, "softmax")))
            {
                model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend);
                model.Fit(Digits.Value, new FitOptions { Epochs = 1, BatchSize = 64 });
                model.Save(path);
            }
            var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, backend));
            Assert.Contains("'scaled'", e.Message);
            Assert.Contains("NeverRegistered", e.Message);
            Assert.Contains("CustomObjects.RegisterLayer(\"NeverRegistered\"", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
