using GpuNet.Backends;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Keras' functional API: Functional.Input, Layer.Apply, Add, Concatenate and Functional.Model.</summary>
public sealed class FunctionalModelTests : IDisposable
{
    private readonly CpuBackend _backend = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-functional-").FullName;

    public void Dispose()
    {
        _backend.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>6 -> h (16, tanh) -> two branches (8 relu, 8 tanh) -> concatenated (16) + h (residual) -> 3 softmax.</summary>
    private static Sequential Branched(string left = "relu")
    {
        var x = Functional.Input(6);
        var h = new Dense(16, "tanh", name: "h").Apply(x);
        var a = new Dense(8, left, name: "left").Apply(h);
        var b = new Dense(8, "tanh", name: "right").Apply(h);
        var y = new Dense(3, "softmax", name: "out").Apply(Functional.Add(Functional.Concatenate(a, b), h));
        return Functional.Model(x, y, name: "branched");
    }

    [Fact]
    public void AChainWrittenFunctionallyTrainsExactlyAsTheSameSequential()
    {
        var data = TestData.Blobs(300, 1);
        using var sequential = new Sequential(new Dense(16, "relu"), new Dense(8, "tanh"), new Dense(3, "softmax"));
        var x = Functional.Input(6);
        using var functional = Functional.Model(x, new Dense(3, "softmax").Apply(new Dense(8, "tanh").Apply(new Dense(16, "relu").Apply(x))));
        var histories = new List<History>();
        foreach (var model in new[] { sequential, functional })
        {
            model.Compile(new Sgd(0.05f, momentum: 0.9f), new SparseCategoricalCrossentropy(), _backend, seed: 11);
            histories.Add(model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 32 }));
        }
        // the same layers initialized in the same order, the same steps: bit for bit
        Assert.Equal(histories[0].Epochs.Select(e => e.Loss), histories[1].Epochs.Select(e => e.Loss));
        Assert.Equal(sequential.Predict(data.Features), functional.Predict(data.Features));
    }

    [Fact]
    public void BranchesAConcatenationAndAResidualAddTrainAndShowInTheSummary()
    {
        using var model = Branched();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 3);
        var history = model.Fit(TestData.Blobs(600, 2), new FitOptions { Epochs = 20, BatchSize = 32 });
        var test = model.Evaluate(TestData.Blobs(300, 3));
        Assert.True(test.Accuracy > 0.9, $"test accuracy {test.Accuracy}");
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss / 2);

        string summary = model.Summary();
        Assert.Contains("Model: \"branched\" (functional)", summary);
        Assert.Contains("Connected to", summary);
        Assert.Matches(@"concatenate_1 \(Concatenate\) +\(None, 16\) +0 +left, right", summary);
        Assert.Matches(@"add_2 \(Add\) +\(None, 16\) +0 +concatenate_1, h", summary);
        Assert.Matches(@"out \(Dense, softmax\) +\(None, 3\) +51 +add_2", summary);
        // 6*16+16 + 2 * (16*8+8) + 16*3+3 = 112 + 272 + 51
        Assert.Contains("Total params: 435 ", summary);
    }

    [Fact]
    public void GradientsFlowThroughBothBranchesAndTheResidualPath()
    {
        // one full-batch gradient-descent step moves h's kernel by -lr dL/dW; dL/dW gathers the left, right and residual paths.
        // Checked against central differences of the loss as Evaluate computes it; softplus in the left branch, since a relu
        // unit whose input crosses 0 within the step spoils a central difference.
        var data = TestData.Blobs(60, 4);
        using var model = Branched(left: "softplus");
        const float lr = 0.1f;
        model.Compile(new GradientDescent(lr), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        model.Evaluate(data); // builds the model
        var before = model.GetWeights("h").Select(w => w.Data).ToArray();
        var others = new[] { "left", "right", "out" }.ToDictionary(n => n, n => model.GetWeights(n).Select(w => w.Data).ToArray());
        model.Fit(data, new FitOptions { Epochs = 1, Shuffle = false });
        var after = model.GetWeights("h")[0].Data;
        foreach (var (name, weights) in others) model.SetWeights(name, weights);

        const float h = 1e-2f;
        foreach (int i in new[] { 0, 17, 40, 63, 95 })
        {
            double LossAt(float delta)
            {
                var kernel = (float[])before[0].Clone();
                kernel[i] += delta;
                model.SetWeights("h", kernel, before[1]);
                return model.Evaluate(data).Loss;
            }
            double numeric = (LossAt(h) - LossAt(-h)) / (2 * h);
            double fromStep = (before[0][i] - after[i]) / lr;
            Assert.True(Math.Abs(numeric - fromStep) <= 2e-4 + 1e-3 * Math.Abs(numeric), $"h kernel[{i}]: step gives {fromStep}, finite differences {numeric}");
        }
    }

    [Fact]
    public void AFunctionalModelSavesLoadsAndFreezesItsLayersByName()
    {
        var data = TestData.Blobs(300, 1);
        using var model = Branched();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 3);
        model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 32 });
        string path = Path.Combine(_folder, "branched.safetensors");
        model.Save(path);
        using var loaded = Sequential.Load(path, _backend);
        Assert.Equal(model.Predict(data.Features), loaded.Predict(data.Features));
        Assert.Equal(model.Summary(), loaded.Summary());

        // an inner layer frozen by name keeps its weights through Fit; the others train
        loaded.GetLayer("left").Trainable = false;
        var left = loaded.GetWeights("left")[0].Data;
        var right = loaded.GetWeights("right")[0].Data;
        loaded.Fit(data, new FitOptions { Epochs = 1, BatchSize = 32 });
        Assert.Equal(left, loaded.GetWeights("left")[0].Data);
        Assert.NotEqual(right, loaded.GetWeights("right")[0].Data);
    }

    [Fact]
    public void AWrongGraphIsRefusedWithWhatToDo()
    {
        var x = Functional.Input(6);
        var a = new Dense(4).Apply(x);
        var b = new Dense(5).Apply(x);
        var e = Assert.Throws<ArgumentException>(() => Functional.Add(a, b));
        Assert.Contains("same width; received 4 and 5", e.Message);

        var other = Functional.Input(6);
        e = Assert.Throws<ArgumentException>(() => Functional.Model(x, new Dense(3).Apply(other)));
        Assert.Contains("another input", e.Message);

        // a Dense layer applied twice is shared (FunctionalInputsAndSharingTests); batch normalization's statistics cannot be
        var norm = new BatchNormalization(name: "bn");
        var twice = norm.Apply(new Dense(6).Apply(norm.Apply(x)));
        e = Assert.Throws<ArgumentException>(() => Functional.Model(x, twice));
        Assert.Contains("Layer 'bn' (BatchNormalization) is applied 2 times", e.Message);
        Assert.Contains("Create one layer per use", e.Message);
    }
}
