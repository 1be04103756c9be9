using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

public class LayerBehaviourTests
{
    [Fact]
    public void DropoutDropsTheRateAndScalesTheRest()
    {
        using var backend = new CpuBackend();
        using var g = new ComputationGraph(backend, 100);
        var x = g.CreateTensor("x", 100, requiresGrad: false);
        var drop = g.Add(new DropoutNode(g, "drop", x, 0.3f, seed: 9, purpose: 1));
        g.Seal();
        backend.Fill(x.Value, 2f);
        g.Forward(100, training: true);
        var y = new float[10_000];
        backend.Download(drop.Output.Value, y);
        // 10,000 Bernoulli(0.3) draws: the dropped fraction has standard error sqrt(0.21/10000) = 0.0046
        double dropped = y.Count(v => v == 0) / 10_000.0;
        Assert.InRange(dropped, 0.3 - 0.023, 0.3 + 0.023);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(2f / 0.7f, v, 5)); // kept units scaled by 1/(1 - rate)
        var again = new float[10_000];
        g.Forward(100, training: true);
        backend.Download(drop.Output.Value, again);
        Assert.NotEqual(y, again); // a new mask every step
        g.Forward(100, training: false);
        backend.Download(drop.Output.Value, again);
        Assert.All(again, v => Assert.Equal(2f, v)); // identity in inference
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.1f)]
    public void DropoutRateIsValidated(float rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(rate));
        Assert.Contains($"rate={rate}", e.Message);
    }

    [Fact]
    public void BatchNormNormalizesInTrainingAndTracksMovingAverages()
    {
        using var backend = new CpuBackend();
        using var g = new ComputationGraph(backend, 64);
        var x = g.CreateTensor("x", 3, requiresGrad: false);
        var bn = g.Add(new BatchNormNode(g, "bn", x, momentum: 0.5f, epsilon: 1e-5f));
        g.Seal();
        backend.Fill(bn.Gamma.Value, 1f);
        backend.Fill(bn.RunningVariance, 1f);
        var rng = new Random(1);
        // columns with mean 5, -2, 0 and standard deviations 2, 0.5, 10
        float[] mu = [5f, -2f, 0f], sd = [2f, 0.5f, 10f];
        var data = new float[64 * 3];
        for (int i = 0; i < data.Length; i++) data[i] = mu[i % 3] + sd[i % 3] * (float)(rng.NextDouble() * 2 - 1) * 1.732f;
        backend.Upload<float>(data, x.Value);
        for (int step = 0; step < 30; step++) g.Forward(64, training: true);
        var y = new float[64 * 3];
        backend.Download(bn.Output.Value, y);
        for (int c = 0; c < 3; c++)
        {
            var col = Enumerable.Range(0, 64).Select(r => (double)y[r * 3 + c]).ToArray();
            double m = col.Average(), v = col.Average(t => (t - m) * (t - m));
            Assert.Equal(0, m, 4);
            Assert.Equal(1, v, 3);
        }
        // momentum 0.5 over 30 identical batches: the moving averages equal the batch statistics
        var rm = new float[3];
        backend.Download(bn.RunningMean, rm);
        for (int c = 0; c < 3; c++)
            Assert.Equal(Enumerable.Range(0, 64).Average(r => data[r * 3 + c]), rm[c], 3);
        // inference uses them: the same batch normalizes the same way
        g.Forward(64, training: false);
        var yi = new float[64 * 3];
        backend.Download(bn.Output.Value, yi);
        for (int i = 0; i < y.Length; i++) Assert.Equal(y[i], yi[i], 2);
    }

    [Fact]
    public void NormalizationAdaptsToTheTrainingData()
    {
        var norm = new Normalization().Adapt([1f, 10f, 3f, 30f, 5f, 50f], 2);
        Assert.Equal([3f, 30f], norm.Mean!);
        // population variance of (1, 3, 5) = 8/3, of (10, 30, 50) = 800/3
        Assert.Equal(8f / 3, norm.Variance![0], 5);
        Assert.Equal(800f / 3, norm.Variance[1], 3);
    }

    [Fact]
    public void NormalizationWithoutAdaptIsAClearError()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Normalization(name: "norm"), new Dense(10, "softmax"));
        model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<InvalidOperationException>(() => model.Evaluate(Datasets.Mnist10k().Test.Range(0, 10)));
        Assert.Contains("Adapt", e.Message);
    }

    private static double TrainWith(Layer[] layers, Optimizer optimizer, int epochs, int seed = 1)
    {
        var sets = Datasets.Mnist10k();
        using var backend = new CpuBackend();
        using var model = new Sequential(layers);
        model.Compile(optimizer, new SparseCategoricalCrossentropy(), backend, seed: (ulong)seed);
        model.Fit(sets.Train.Range(0, 2000), new FitOptions { Epochs = epochs, BatchSize = 64, Seed = seed });
        return model.Evaluate(sets.Test.Range(0, 1000)).Accuracy;
    }

    [Fact]
    public void EveryLayerKindTrainsOnMnist()
    {
        // 2,000 digits, a few epochs: each model clears 80% on 1,000 test digits (a majority guess gives ~11%)
        var adapt = new Normalization().Adapt(Datasets.Mnist10k().Train.Range(0, 2000));
        var models = new (string Name, Layer[] Layers, Optimizer Opt)[]
        {
            ("dropout", [new Dense(128, "relu"), new Dropout(0.2f), new Dense(10, "softmax")], new Adam(0.002f)),
            ("batchnorm", [new Dense(64), new BatchNormalization(), new ActivationLayer("relu"), new Dense(10, "softmax")], new Sgd(0.05f, 0.9f)),
            ("normalization + elu", [adapt, new Dense(64, Activation.Elu()), new Dense(10, "softmax")], new RmsProp(0.001f)),
            ("maxout", [new Maxout(32, 3), new Dense(10, "softmax")], new Adam(0.002f)),
            ("l2 + leaky relu", [new Dense(64, Activation.LeakyRelu(0.1f), kernelRegularizer: Regularizer.Ridge(1e-4f)), new Dense(10, "softmax")], new Sgd(0.1f, 0.9f, nesterov: true)),
            ("swish + adagrad", [new Dense(64, "swish"), new Dense(10, "softmax")], new AdaGrad(0.05f)),
            ("gelu + adamw", [new Dense(64, "gelu"), new Dense(10, "softmax")], new AdamW(0.002f)),
            ("softplus + sgd", [new Dense(64, "softplus", kernelInitializer: "he_normal"), new Dense(10, "softmax")], new Sgd(0.1f)),
        };
        foreach (var (name, layers, opt) in models)
        {
            double accuracy = TrainWith(layers, opt, epochs: 4);
            Assert.True(accuracy > 0.80, $"{name}: test accuracy {accuracy:P1}");
        }
    }

    [Fact]
    public void L1DrivesWeightsTowardZeroAndL2ShrinksThem()
    {
        float MeanAbsWeight(Regularizer? r)
        {
            var train = Datasets.Mnist10k().Train.Range(0, 1000);
            using var backend = new CpuBackend();
            var dense = new Dense(32, "relu", kernelRegularizer: r);
            using var model = new Sequential(dense, new Dense(10, "softmax"));
            model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend, seed: 4);
            model.Fit(train, new FitOptions { Epochs = 5, BatchSize = 50 });
            var w = new float[dense.Node!.Weights.Count];
            backend.Download(dense.Node.Weights.Value, w);
            return w.Average(MathF.Abs);
        }
        float none = MeanAbsWeight(null), l2 = MeanAbsWeight(Regularizer.Ridge(0.05f)), l1 = MeanAbsWeight(Regularizer.Lasso(0.005f)),
            elastic = MeanAbsWeight(Regularizer.ElasticNet(0.005f, 0.05f));
        Assert.True(l2 < 0.8f * none, $"L2: mean |w| {l2} vs {none} without");
        Assert.True(l1 < 0.8f * none, $"L1: mean |w| {l1} vs {none} without");
        Assert.True(elastic < l2 && elastic < l1, $"elastic net {elastic} vs l1 {l1}, l2 {l2}");
    }

    [Fact]
    public void EarlyStoppingStopsWhenValidationLossStallsAndFullBatchGdTakesOneStepPerEpoch()
    {
        var train = Datasets.Mnist10k().Train.Range(0, 600);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(32, "relu"), new Dense(10, "softmax"));
        model.Compile(new GradientDescent(0.5f), new SparseCategoricalCrossentropy(), backend);
        var stop = new EarlyStopping(patience: 2);
        var h = model.Fit(train, new FitOptions { Epochs = 200, ValidationSplit = 0.5, EarlyStopping = stop });
        Assert.All(h.Epochs, e => Assert.Equal(1, e.Steps)); // the whole training set is one batch
        Assert.True(stop.StoppedEpoch is > 0 and < 200, $"stopped at {stop.StoppedEpoch}");
        Assert.Equal(stop.StoppedEpoch, h.Epochs.Count);
        Assert.Equal(stop.BestEpoch + 2, stop.StoppedEpoch);
    }

    [Fact]
    public void BinaryCrossEntropyWithSigmoidOutputTrains()
    {
        // even digit (0) vs odd digit (1)
        var sets = Datasets.Mnist10k();
        Dataset Parity(Dataset d) => new(d.Name, d.Features, d.Labels.Select(l => l % 2).ToArray(), d.FeatureCount, 2);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(32, "relu"), new Dense(1, "sigmoid"));
        model.Compile(new Adam(0.002f), new BinaryCrossentropy(), backend);
        model.Fit(Parity(sets.Train.Range(0, 2000)), new FitOptions { Epochs = 5, BatchSize = 32 });
        var test = model.Evaluate(Parity(sets.Test.Range(0, 1000)));
        Assert.True(test.Accuracy > 0.85, $"parity accuracy {test.Accuracy:P1}");
        var p = model.Predict(sets.Test.Range(0, 5).Features);
        Assert.Equal(5, p.Length);
        Assert.All(p, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void MeanSquaredErrorFitsALinearRegression()
    {
        // y = 2 x0 - 3 x1 + 1 with a little noise: a linear layer recovers the coefficients
        var rng = new Random(3);
        int n = 512;
        var x = Enumerable.Range(0, 2 * n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var y = Enumerable.Range(0, n).Select(i => 2 * x[2 * i] - 3 * x[2 * i + 1] + 1 + (float)(rng.NextDouble() - 0.5) * 0.01f).ToArray();
        var data = Dataset.ForRegression("line", x, y, 2);
        using var backend = new CpuBackend();
        var dense = new Dense(1);
        using var model = new Sequential(dense);
        model.Compile(new Adam(0.05f), new MeanSquaredError(), backend);
        var h = model.Fit(data, new FitOptions { Epochs = 60, BatchSize = 32 });
        Assert.True(double.IsNaN(h.Epochs[0].Accuracy));
        Assert.True(h.Epochs[^1].Loss < 1e-3, $"final mse {h.Epochs[^1].Loss}");
        var w = new float[3];
        backend.Download(model.Graph!.ParameterBuffer, w);
        Assert.Equal(2f, w[0], 1);
        Assert.Equal(-3f, w[1], 1);
        Assert.Equal(1f, w[2], 1);
    }

    [Fact]
    public void CategoricalCrossEntropyWithOneHotTargetsMatchesSparse()
    {
        // the same model, seed and data: one-hot CCE and sparse CCE give the same losses
        var train = Datasets.Mnist10k().Train.Range(0, 400);
        double Run(Loss loss)
        {
            using var backend = new CpuBackend();
            using var model = new Sequential(new Dense(16, "tanh"), new Dense(10, "softmax"));
            model.Compile(new Sgd(0.1f), loss, backend, seed: 2);
            return model.Fit(train, new FitOptions { Epochs = 2, BatchSize = 40 }).Epochs[^1].Loss;
        }
        Assert.Equal(Run(new SparseCategoricalCrossentropy()), Run(new CategoricalCrossentropy()), 4);
    }
}
