using GpuNet.Backends;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Optimizer.ClipValue, ClipNorm and GlobalClipNorm (Keras' clipvalue, clipnorm and global_clipnorm).</summary>
public sealed class GradientClippingTests
{
    private static readonly Data.Dataset Data = TestData.Blobs(60, 5);

    private static Sequential Model(Optimizer optimizer, IBackend backend)
    {
        var model = new Sequential(new Dense(8, "tanh", kernelRegularizer: Regularizer.Ridge(0.01f)), new Dense(3, "softmax"));
        model.Compile(optimizer, new SparseCategoricalCrossentropy(), backend, seed: 9);
        return model;
    }

    private static float[] Weights(Sequential model)
    {
        var w = new float[model.Graph!.ParameterCount];
        model.Backend!.Download(model.Graph.ParameterBuffer, w.AsSpan());
        return w;
    }

    /// <summary>One full-batch step, no shuffle: the gradient is the one GradientNorms reports at the initial weights.</summary>
    private static readonly FitOptions OneStep = new() { Epochs = 1, BatchSize = 60, Shuffle = false };

    [Fact]
    public void GlobalClipNormScalesTheWholeGradientToTheLimit()
    {
        using var backend = new CpuBackend();
        using var probe = Model(new Sgd(0.1f), backend);
        double norm = Math.Sqrt(probe.GradientNorms(Data, 60).Sum(n => n.Norm * n.Norm)); // regularization included
        const float limit = 0.01f;
        Assert.True(norm > 10 * limit, $"the gradient norm {norm} must exceed the limit for the test to mean anything");

        using var clipped = Model(new Sgd(0.1f) { GlobalClipNorm = limit }, backend);
        using var scaled = Model(new Sgd((float)(0.1 * limit / norm)), backend); // SGD is linear in g
        using var plain = Model(new Sgd(0.1f), backend);
        clipped.Fit(Data, OneStep);
        scaled.Fit(Data, OneStep);
        plain.Fit(Data, OneStep);
        var (a, b, c) = (Weights(clipped), Weights(scaled), Weights(plain));
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 1e-6f);
        Assert.True(a.Zip(c).Any(t => Math.Abs(t.First - t.Second) > 1e-4), "clipping changed nothing");

        // a limit above the norm changes nothing
        using var loose = Model(new Sgd(0.1f) { GlobalClipNorm = (float)(norm * 2) }, backend);
        loose.Fit(Data, OneStep);
        Assert.Equal(c, Weights(loose));
    }

    [Fact]
    public void ClipValueBoundsEveryElementOfTheStep()
    {
        using var backend = new CpuBackend();
        const float lr = 0.1f, limit = 1e-4f;
        using var clipped = Model(new Sgd(lr) { ClipValue = limit }, backend);
        using var start = Model(new Sgd(lr), backend);
        start.Evaluate(Data); // builds the graph: the initial weights
        var w0 = Weights(start);
        clipped.Fit(Data, OneStep);
        var moved = Weights(clipped).Zip(w0, (w, s) => Math.Abs(w - s)).ToArray();
        Assert.All(moved, d => Assert.True(d <= lr * limit * 1.01 + 1e-7, $"a weight moved {d}"));
        Assert.True(moved.Count(d => Math.Abs(d - lr * limit) < lr * limit * 0.01) > moved.Length / 2, "most gradients exceed the tiny limit, so most steps are exactly lr * limit");
    }

    [Fact]
    public void ClipNormBoundsEachTensorsStepToItsLimit()
    {
        using var backend = new CpuBackend();
        const float lr = 0.1f, limit = 1e-3f;
        using var start = Model(new Sgd(lr), backend);
        start.Evaluate(Data); // builds the graph: the initial weights
        var w0 = Weights(start);
        using var clipped = Model(new Sgd(lr) { ClipNorm = limit }, backend);
        clipped.Fit(Data, OneStep);
        var w1 = Weights(clipped);
        var parameters = clipped.Graph!.Parameters;
        Assert.Equal(4, parameters.Count); // two kernels, two biases
        foreach (var p in parameters)
        {
            double step = Math.Sqrt(Enumerable.Range(p.Offset, p.Count).Sum(i => (double)(w1[i] - w0[i]) * (w1[i] - w0[i])));
            Assert.True(Math.Abs(step - lr * limit) < lr * limit * 1e-3, $"{p.Name}: step norm {step}, expected lr * clipnorm = {lr * limit}");
        }
    }

    [Fact]
    public void AnOptimizerSharedByTwoModelsClipsEachOnesOwnGradients()
    {
        using var backend = new CpuBackend();
        const float lr = 0.1f, limit = 1e-3f;
        var shared = new Sgd(lr) { ClipNorm = limit };
        using var a = Model(shared, backend);
        using var b = Model(shared, backend);
        using var start = Model(new Sgd(lr), backend);
        start.Evaluate(Data);
        var w0 = Weights(start);
        a.Evaluate(Data); // builds a's graph
        b.Evaluate(Data); // then b's: the optimizer was built last for b
        a.Fit(Data, OneStep);
        var w1 = Weights(a);
        foreach (var p in a.Graph!.Parameters)
        {
            double step = Math.Sqrt(Enumerable.Range(p.Offset, p.Count).Sum(i => (double)(w1[i] - w0[i]) * (w1[i] - w0[i])));
            Assert.True(Math.Abs(step - lr * limit) < lr * limit * 1e-3, $"{p.Name}: step norm {step}, expected {lr * limit}");
        }
    }

    [Theory]
    [InlineData("clipvalue", 0.5f)]
    [InlineData("clipnorm", 1.5f)]
    [InlineData("global_clipnorm", 2f)]
    public void EachClippingIsSavedWithTheModel(string clip, float value)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("gpunet-clip-").FullName, "m.safetensors");
        using var backend = new CpuBackend();
        var adam = new Adam(0.01f);
        switch (clip)
        {
            case "clipvalue": adam.ClipValue = value; break;
            case "clipnorm": adam.ClipNorm = value; break;
            default: adam.GlobalClipNorm = value; break;
        }
        using var model = Model(adam, backend);
        model.Fit(Data, OneStep);
        model.Save(path);
        using var loaded = Sequential.Load(path, backend);
        var o = loaded.Optimizer!;
        Assert.Equal((adam.ClipValue, adam.ClipNorm, adam.GlobalClipNorm), (o.ClipValue, o.ClipNorm, o.GlobalClipNorm));
        Assert.Equal("2", SafeTensorsFile.Read(path).Metadata["version"]);
        Assert.EndsWith($"{clip}={value.ToString(System.Globalization.CultureInfo.InvariantCulture)}", o.ToString());

        // a file claiming two clippings at once is damaged
        var (tensors, meta) = SafeTensorsFile.Read(path);
        var config = System.Text.Json.Nodes.JsonNode.Parse(meta["config"])!;
        config["optimizer"]!["clipvalue"] = 1f;
        config["optimizer"]!["clipnorm"] = 1f;
        var damaged = new Dictionary<string, string>(meta) { ["config"] = config.ToJsonString() };
        SafeTensorsFile.Write(path, tensors, damaged);
        Assert.Contains("gradient clipping is damaged", Assert.Throws<InvalidDataException>(() => Sequential.Load(path, backend)).Message);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void TheCliFlagsSetKerasClippings()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("gpunet-clipcli-").FullName, "m.safetensors");
        try
        {
            using var backend = new CpuBackend();
            foreach (var (flag, check) in new (string, Func<Optimizer, float?>)[]
                     { ("--clip-norm", o => o.ClipNorm), ("--global-clip-norm", o => o.GlobalClipNorm), ("--clip-value", o => o.ClipValue) })
            {
                var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", flag, "0.75", "--save", path);
                Assert.True(code == 0, error);
                using var loaded = Sequential.Load(path, backend);
                Assert.Equal(0.75f, check(loaded.Optimizer!));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void BadClippingSettingsAreRefused()
    {

        Assert.Contains("clipvalue must be a positive finite number", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd() { ClipValue = 0f }).Message);
        Assert.Contains("global_clipnorm is set already", Assert.Throws<InvalidOperationException>(() => new Sgd() { GlobalClipNorm = 1f, ClipNorm = 1f }).Message);
        Assert.Contains("clipvalue is set already", Assert.Throws<InvalidOperationException>(() => new Sgd() { ClipValue = 1f, GlobalClipNorm = 1f }).Message);
    }
}
