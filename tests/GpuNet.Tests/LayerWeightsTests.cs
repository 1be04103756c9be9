using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Keras' summary(), get_layer / get_weights / set_weights by layer name, and freezing a layer (trainable = false).</summary>
public sealed class LayerWeightsTests : IDisposable
{
    private readonly CpuBackend _backend = new();

    public void Dispose() => _backend.Dispose();

    private static Sequential Model() => new(
        new Dense(8, "relu", name: "hidden"), new BatchNormalization(momentum: 0.8f, name: "bn"), new Dense(3, "softmax", name: "out"));

    private Sequential Fitted(int epochs = 2)
    {
        var model = Model();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        model.Fit(TestData.Blobs(300, 1), new FitOptions { Epochs = epochs, BatchSize = 32 });
        return model;
    }

    [Fact]
    public void SummaryCountsMovingStatisticsApartAndKeepsLongNamesApartFromTheShapes()
    {
        using var model = new Sequential(new Dense(64, "relu", name: "a_rather_long_name_for_the_first_layer"),
            new BatchNormalization(name: "bn"), new Dense(10, "softmax", name: "out"));
        string summary = model.Summary(784);
        // Dense 784*64 + 64 = 50,240; batch norm 64 gamma + 64 beta trainable, 64 + 64 moving statistics not: 256;
        // Dense 64*10 + 10 = 650. Total 51,146 = 51,018 trainable + 128 non-trainable (float32: 4 bytes each).
        Assert.Contains("a_rather_long_name_for_the_first_layer (Dense, relu)   (None, 64)", summary); // the widest name, then three spaces
        Assert.Contains("Total params: 51,146 (199.79 KB)", summary);
        Assert.Contains("Trainable params: 51,018 (199.29 KB)", summary);
        Assert.Contains("Non-trainable params: 128 (512 B)", summary);
        var bnLine = summary.Split('\n').Single(l => l.StartsWith("bn ", StringComparison.Ordinal));
        Assert.EndsWith(" 256", bnLine.TrimEnd());
        Assert.DoesNotContain("Trainable  ", summary.Split('\n')[2]); // no Trainable column while nothing is frozen
    }

    [Fact]
    public void SummaryNeedsNoInputSizeOnceTheModelKnowsIt()
    {
        using var model = Model();
        var e = Assert.Throws<InvalidOperationException>(() => model.Summary());
        Assert.Contains("Summary(inputSize)", e.Message);
        using var fitted = Fitted(1);
        Assert.Equal(fitted.Summary(6), fitted.Summary());
    }

    [Fact]
    public void AFrozenLayerCountsAsNonTrainableInTheSummary()
    {
        using var model = Model();
        model.GetLayer("hidden").Trainable = false;
        string summary = model.Summary(6);
        // hidden: 6*8 + 8 = 56, frozen; bn: 16 trainable + 16 statistics; out: 8*3 + 3 = 27
        Assert.Contains("Trainable params: 43 ", summary);
        Assert.Contains("Non-trainable params: 72 ", summary);
        Assert.Contains("Trainable", summary.Split('\n')[2]);
        Assert.EndsWith("   N", summary.Split('\n').Single(l => l.StartsWith("hidden ", StringComparison.Ordinal)).TrimEnd());
    }

    [Fact]
    public void GetWeightsReturnsEachLayersTensorsAndSetWeightsReplacesThem()
    {
        using var model = Fitted();
        var hidden = model.GetWeights("hidden");
        Assert.Equal(["hidden/kernel", "hidden/bias"], hidden.Select(w => w.Name));
        Assert.Equal([6, 8], hidden[0].Shape);
        Assert.Equal(["bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"], model.GetWeights("bn").Select(w => w.Name));

        var x = TestData.Blobs(20, 9).Features;
        // a zero kernel and bias in the last layer: every logit is 0, so softmax gives 1/3 to each class
        model.SetWeights("out", new float[8 * 3], new float[3]);
        Assert.All(model.Predict(x), p => Assert.Equal(1f / 3, p, 6));
        Assert.All(model.GetWeights("out")[0].Data, w => Assert.Equal(0f, w));

        // putting the hidden layer's weights back after a change restores its outputs exactly
        var before = model.Predict(x);
        model.SetWeights("hidden", new float[48], hidden[1].Data);
        model.SetWeights("hidden", hidden[0].Data, hidden[1].Data);
        Assert.Equal(before, model.Predict(x));
    }

    [Fact]
    public void WeightErrorsNameTheLayerTheShapesAndTheNames()
    {
        using var model = Fitted(1);
        var count = Assert.Throws<ArgumentException>(() => model.SetWeights("out", new float[24]));
        Assert.Contains("2 weight tensors (out/kernel [8, 3], out/bias [3]) but 1 arrays", count.Message);
        var size = Assert.Throws<ArgumentException>(() => model.SetWeights("out", new float[25], new float[3]));
        Assert.Contains("'out/kernel' has 25 values; its shape [8, 3] needs 24", size.Message);
        var missing = Assert.Throws<KeyNotFoundException>(() => model.GetWeights("dense"));
        Assert.Contains("Its layers are: hidden, bn, out", missing.Message);
        using var fresh = Model();
        Assert.Throws<InvalidOperationException>(() => fresh.GetWeights("hidden"));
    }

    [Fact]
    public void FitLeavesAFrozenLayersWeightsAndStatisticsAsTheyWere()
    {
        using var model = Fitted();
        model.GetLayer("hidden").Trainable = false;
        model.GetLayer("bn").Trainable = false;
        var hidden = model.GetWeights("hidden");
        var bn = model.GetWeights("bn");
        var output = model.GetWeights("out");
        // Adam carries moments from the first Fit, so the frozen weights would move even with zero gradients
        model.Fit(TestData.Blobs(300, 2), new FitOptions { Epochs = 2, BatchSize = 32 });

        for (int i = 0; i < hidden.Count; i++) Assert.Equal(hidden[i].Data, model.GetWeights("hidden")[i].Data);
        for (int i = 0; i < bn.Count; i++) Assert.Equal(bn[i].Data, model.GetWeights("bn")[i].Data);
        Assert.NotEqual(output[0].Data, model.GetWeights("out")[0].Data);

        // unfrozen again, it trains
        model.GetLayer("hidden").Trainable = true;
        model.Fit(TestData.Blobs(300, 3), new FitOptions { Epochs = 1, BatchSize = 32 });
        Assert.NotEqual(hidden[0].Data, model.GetWeights("hidden")[0].Data);
    }

    [Fact]
    public void AFrozenBatchNormTrainsInInferenceModeAsKerasDoes()
    {
        using var model = Fitted();
        foreach (var name in new[] { "hidden", "bn", "out" }) model.GetLayer(name).Trainable = false;
        var data = TestData.Blobs(300, 2);
        var evaluated = model.Evaluate(data);
        // every layer frozen and the rows in order: the epoch's training loss is the inference loss on the same rows (with the
        // batch's own statistics in batch norm, as before, it was not)
        var history = model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 32, Shuffle = false });
        Assert.Equal(evaluated.Loss, history.Epochs[0].Loss, 1e-5 * evaluated.Loss);
        Assert.Equal(evaluated.Accuracy, history.Epochs[0].Accuracy, 12);
    }

    [Fact]
    public void AFrozenBatchNormPassesTheGradientOfItsFixedAffineMap()
    {
        // moving statistics away from (0, 1) first, then only the batch norm frozen and one full-batch gradient-descent step:
        // the first kernel moves by -lr dL/dW, with L the inference-mode loss, checked by central differences of Evaluate
        var data = TestData.Blobs(60, 4);
        using var model = new Sequential(new Dense(5, "tanh", name: "hidden"), new BatchNormalization(momentum: 0.5f, name: "bn"), new Dense(3, "softmax", name: "out"));
        model.Compile(new Adam(0.02f), new SparseCategoricalCrossentropy(), _backend, seed: 3);
        model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 16 });
        model.GetLayer("bn").Trainable = false;
        const float lr = 0.1f;
        model.Compile(new GradientDescent(lr), new SparseCategoricalCrossentropy(), _backend, seed: 3);
        var before = model.GetWeights("hidden").Select(w => w.Data).ToArray();
        var outBefore = model.GetWeights("out").Select(w => w.Data).ToArray();
        var bnBefore = model.GetWeights("bn").Select(w => w.Data).ToArray();
        model.Fit(data, new FitOptions { Epochs = 1, Shuffle = false });
        var after = model.GetWeights("hidden")[0].Data;
        for (int i = 0; i < bnBefore.Length; i++) Assert.Equal(bnBefore[i], model.GetWeights("bn")[i].Data);
        model.SetWeights("out", outBefore); // the loss below is that of the step's starting point

        const float h = 1e-2f;
        foreach (int i in new[] { 0, 7, 13, 22, 29 })
        {
            double LossAt(float delta)
            {
                var kernel = (float[])before[0].Clone();
                kernel[i] += delta;
                model.SetWeights("hidden", kernel, before[1]);
                return model.Evaluate(data).Loss;
            }
            double numeric = (LossAt(h) - LossAt(-h)) / (2 * h);
            double fromStep = (before[0][i] - after[i]) / lr;
            Assert.True(Math.Abs(numeric - fromStep) <= 2e-4 + 1e-3 * Math.Abs(numeric), $"kernel[{i}]: step gives {fromStep}, finite differences {numeric}");
        }
    }

    [Fact]
    public void TheSummaryCommandPrintsASavedModelsTableWithoutAnInputSize()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-summary-").FullName;
        try
        {
            string path = Path.Combine(folder, "m.safetensors");
            var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--batchnorm", "--save", path);
            Assert.True(code == 0, error);
            (code, var output, error) = TestData.RunCli("summary", "--model", path);
            Assert.True(code == 0, error);
            Assert.Contains("784 inputs", output);
            // Dense without bias before batch norm: 784*128 = 100,352 and 128*64 = 8,192; batch norm 4*128 = 512 and 4*64 = 256,
            // half of each not trainable; the output layer 64*10 + 10 = 650
            Assert.Contains("Total params: 109,962 ", output);
            Assert.Contains("Non-trainable params: 384 ", output);

            (code, _, error) = TestData.RunCli("summary", "--model", Path.Combine(folder, "none.safetensors"));
            Assert.Equal(1, code);
            Assert.Contains("does not exist", error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AFrozenLayerStaysFrozenThroughSaveAndLoad()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-frozen-").FullName;
        try
        {
            using var model = Fitted(1);
            model.GetLayer("hidden").Trainable = false;
            string path = Path.Combine(folder, "m.safetensors");
            model.Save(path);
            using var loaded = Sequential.Load(path, _backend);
            Assert.False(loaded.GetLayer("hidden").Trainable);
            Assert.True(loaded.GetLayer("out").Trainable);
            var kernel = loaded.GetWeights("hidden")[0].Data;
            loaded.Fit(TestData.Blobs(100, 4), new FitOptions { Epochs = 1, BatchSize = 32 });
            Assert.Equal(kernel, loaded.GetWeights("hidden")[0].Data);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
