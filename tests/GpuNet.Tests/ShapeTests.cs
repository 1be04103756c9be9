using System.Text.RegularExpressions;
using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Tensors with a per-sample shape (batch first): <see cref="Shape"/>, the graph's Reshape and Flatten views, the Flatten
/// and Reshape layers, Dense on the last axis, declared input shapes in Sequential and the functional API, and their
/// summary, save/load and ONNX export.
/// </summary>
/// <remarks>
/// Finite differences as in <see cref="AutogradTests"/>: central, h = 1e-3 in float32, atol 1e-3 + rtol 1e-2 (rounding
/// of a loss of ~10 terms of size ~1 over 2h is ~5e-4 at worst; a wrong rule is off by O(1)).
/// </remarks>
public sealed class ShapeTests(AutogradBackends backends) : IClassFixture<AutogradBackends>, IDisposable
{
    private const float H = 1e-3f, Atol = 1e-3f, Rtol = 1e-2f;
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-shapes-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Backends() => ["cpu", "ilgpu-cpu"];

    // ---- Shape ------------------------------------------------------------------------------

    [Fact]
    public void AShapeInfersOneMinusOneAndComparesByItsDimensions()
    {
        var image = new Shape(28, 28);
        Assert.Equal(2, image.Rank);
        Assert.Equal(784, image.Size);
        Assert.Equal(28, image.Last);
        Assert.Equal("(None, 28, 28)", image.WithBatch());
        Assert.Equal("(784,)", new Shape(784).ToString());
        Assert.Equal(new Shape(784), image.Reshape(-1));
        Assert.Equal(new Shape(28, 28), new Shape(784).Reshape(-1, 28));  // 784 / 28 = 28
        Assert.Equal(new Shape(4, 7, 28), image.Reshape(4, -1, 28));      // 784 / (4 * 28) = 7
        Assert.Equal(new Shape(784), image.Flatten());
        Assert.Equal(new Shape(28, 10), image.WithLast(10));
        Shape fromExpression = [28, 28];
        Assert.Equal(image, fromExpression);
        Assert.True(image == fromExpression);
        Assert.NotEqual(new Shape(14, 56), image); // same size, other shape
    }

    [Fact]
    public void ReshapesThatCannotFitSayWhyAndNameBothShapes()
    {
        var sizes = Assert.Throws<ArgumentException>(() => new Shape(28, 28).Reshape(780));
        Assert.Contains("(None, 28, 28)", sizes.Message);
        Assert.Contains("(None, 780)", sizes.Message);
        Assert.Contains("784", sizes.Message);
        var inferred = Assert.Throws<ArgumentException>(() => new Shape(10).Reshape(-1, 3));
        Assert.Contains("10 is not a multiple of 3", inferred.Message);
        Assert.Contains("only one dimension can be -1", Assert.Throws<ArgumentException>(() => new Shape(12).Reshape(-1, -1)).Message);
        Assert.Contains("at least 1", Assert.Throws<ArgumentException>(() => new Shape(12).Reshape(0, 12)).Message);
        Assert.Throws<ArgumentException>(() => new Shape(3, 0));
        Assert.Contains("target_shape=(-1, 2, -1)", Assert.Throws<ArgumentException>(() => new Reshape([-1, 2, -1])).Message);

        // the graph op and the layer give the same message, naming the tensor's shape and the target
        using var g = new ComputationGraph(backends.Cpu, 2);
        var x = g.CreateTensor("x", new Shape(4, 6));
        var e = Assert.Throws<ArgumentException>(() => g.Reshape(x, 5, 5));
        Assert.Contains("(None, 4, 6)", e.Message);
        Assert.Contains("(None, 5, 5)", e.Message);
        var layer = Assert.Throws<ArgumentException>(() => new Reshape([5, 5]).OutputShape(new Shape(4, 6)));
        Assert.Equal(e.Message, layer.Message);
    }

    // ---- graph views ------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Backends))]
    public void ReshapeAndFlattenAreViewsOfTheSameValues(string device)
    {
        using var g = new ComputationGraph(backends.Get(device), 4);
        var x = g.CreateTensor("x", 12);
        var images = g.Reshape(x, 3, -1);
        var flat = g.Flatten(images);
        Assert.Same(flat, g.Flatten(flat)); // already flat: nothing to add
        g.Seal();
        var values = Enumerable.Range(0, 3 * 12).Select(i => i * 0.25f).ToArray();
        g.Write(x, values);
        g.Forward(3, training: false);

        Assert.Equal(new Shape(3, 4), images.Shape);
        Assert.Equal(new Shape(12), flat.Shape);
        Assert.Equal(12, images.Cols);
        // one buffer, no copy: the view reads the source's storage
        Assert.Same(x.Value, images.Value);
        Assert.Same(x.Grad, flat.Grad);
        Assert.Same(x, flat.ViewOf!.ViewOf);
        Assert.Equal(values, g.Read(images)); // the values in the same row-major order (exact: nothing is computed)
        Assert.Equal(values, g.Read(flat));
        Assert.Contains(g.Nodes, n => n is ReshapeNode { Flattens: true });
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void GradientsFlowThroughAReshapeUnchangedAndAddUpWithTheSourcesOwn(string device)
    {
        // y = flatten(softmax(reshape(x, 3, 4))) + x * x, with x read both through the view and directly: the two
        // contributions land in the one shared gradient buffer and must add up. Softmax normalizes the last axis,
        // so each sample is 3 independent softmaxes of 4.
        using var g = new ComputationGraph(backends.Get(device), 4);
        var x = g.CreateTensor("x", 12, requiresGrad: true);
        var softmax = g.Softmax(g.Reshape(x, 3, 4));
        var y = g.Add(g.Flatten(softmax), g.Multiply(x, x));
        var (loss, weights) = WeightedSum(g, y);
        g.Seal();
        var rng = new Random(5);
        g.Write(x, Values(rng, 3 * 12));
        g.Write(weights, Values(rng, 3 * 12));
        g.Forward(3, training: false);

        var s = g.Read(softmax);
        for (int group = 0; group < 9; group++) // 3 rows x 3 groups of 4, each summing to 1
            Assert.Equal(1.0, s.AsSpan(group * 4, 4).ToArray().Sum(v => (double)v), 1e-6);
        CheckGradients(g, loss, 3, [x], $"{device}: reshape");
    }

    [Fact]
    public void TheGradientThroughAReshapeIsTheOutputGradientItself()
    {
        // L = sum(reshape(x) * c): dL/dx = c exactly, in x's order (nothing is computed on the way back)
        using var g = new ComputationGraph(backends.Cpu, 2);
        var x = g.CreateTensor("x", 6, requiresGrad: true);
        var (loss, c) = WeightedSum(g, g.Reshape(x, 2, 3));
        g.Seal();
        float[] weights = [1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6];
        g.Write(x, new float[12]);
        g.Write(c, weights);
        g.Forward(2, training: false);
        g.Backward(loss);
        Assert.Equal(weights, g.ReadGradient(x));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void DenseMapsTheLastAxisWithOneKernelForEveryRow(string device)
    {
        // x is (batch, 3, 4); an affine node of 2 units makes (batch, 3, 2): y[r, t, u] = sum_f x[r, t, f] W[f, u] + b[u]
        var backend = backends.Get(device);
        using var g = new ComputationGraph(backend, 4);
        var x = g.CreateTensor("x", new Shape(3, 4), requiresGrad: true);
        var affine = g.Add(new AffineNode(g, "d", x, 2));
        var (loss, weights) = WeightedSum(g, affine.Output);
        g.Seal();
        Assert.Equal(new Shape(3, 2), affine.Output.Shape);
        Assert.Equal((4, 2), (affine.Weights.Rows, affine.Weights.Cols));
        var rng = new Random(9);
        var parameters = Values(rng, g.ParameterCount); // W (4 x 2) then b (2)
        backend.Upload<float>(parameters, g.ParameterBuffer);
        var input = Values(rng, 3 * 12);
        g.Write(x, input);
        g.Write(weights, Values(rng, 3 * 6));
        g.Forward(3, training: false);

        var y = g.Read(affine.Output);
        for (int r = 0; r < 3; r++)
            for (int t = 0; t < 3; t++)
                for (int u = 0; u < 2; u++)
                {
                    double expected = parameters[8 + u];
                    for (int f = 0; f < 4; f++) expected += (double)input[r * 12 + t * 4 + f] * parameters[f * 2 + u];
                    // four float32 products of magnitude ~2: rounding ~1e-6
                    Assert.True(Math.Abs(y[r * 6 + t * 2 + u] - expected) <= 1e-5, $"y[{r}, {t}, {u}] = {y[r * 6 + t * 2 + u]}, expected {expected}");
                }
        CheckGradients(g, loss, 3, [x], $"{device}: dense on the last axis", checkParameters: true);
    }

    // ---- models -----------------------------------------------------------------------------

    [Fact]
    public void AFlattenModelTrainsToTheSameWeightsAsTheFlatModelBitForBit()
    {
        // the same storage, the same GEMMs: (None, 28, 28) through Flatten is the flat model's (None, 784)
        var flat = SyntheticImages(96, seed: 4);
        var images = flat.WithSampleShape(28, 28);
        Assert.Equal(new Shape(28, 28), images.SampleShape);
        using var backend = new CpuBackend();

        using var shaped = new Sequential(new Flatten(inputShape: [28, 28]), new Dense(16, "relu", name: "hidden"), new Dense(3, "softmax", name: "out"));
        using var plain = new Sequential(new Dense(16, "relu", name: "hidden"), new Dense(3, "softmax", name: "out"));
        foreach (var model in new[] { shaped, plain })
            model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 7);
        var h1 = shaped.Fit(images, new FitOptions { Epochs = 3, BatchSize = 16, Seed = 2 });
        var h2 = plain.Fit(flat, new FitOptions { Epochs = 3, BatchSize = 16, Seed = 2 });

        Assert.Equal(new Shape(28, 28), shaped.InputShape);
        Assert.Equal(new Shape(784), plain.InputShape);
        Assert.Equal(h2.Epochs.Select(e => e.Loss), h1.Epochs.Select(e => e.Loss));
        foreach (string layer in new[] { "hidden", "out" })
        {
            var a = shaped.GetWeights(layer);
            var b = plain.GetWeights(layer);
            for (int i = 0; i < a.Count; i++)
                Assert.Equal(b[i].Data.Select(BitConverter.SingleToInt32Bits), a[i].Data.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Equal(plain.Predict(flat.Features), shaped.Predict(flat.Features));
    }

    [Fact]
    public void TheSummaryShowsKerasShapesBeforeTheModelSeesData()
    {
        using var model = new Sequential(new Flatten(inputShape: [28, 28], name: "flatten"), new Dense(128, "relu", name: "hidden"),
            new Dense(10, "softmax", name: "out"));
        Assert.Equal(new Shape(28, 28), model.InputShape);
        Assert.Equal(new Shape(10), model.OutputShape);
        Assert.Equal(0, model.InputSize); // declared, not built
        string summary = model.Summary();
        Assert.Matches(@"flatten \(Flatten\) +\(None, 784\) +0", summary);
        Assert.Matches(@"hidden \(Dense, relu\) +\(None, 128\) +100,480", summary); // 784 x 128 + 128
        Assert.Matches(@"out \(Dense, softmax\) +\(None, 10\) +1,290", summary);
        Assert.Contains("Total params: 101,770", summary);
        Assert.Equal(summary, model.Summary(784)); // a width of the declared size takes the declared shape

        var diagram = model.Diagram();
        Assert.Equal(["input (InputLayer)", "output: (None, 28, 28)"], diagram.Boxes[0].Lines);
        Assert.Equal("(None, 28, 28) -> (None, 784)", diagram.Boxes[1].Lines[1]);

        // a Reshape to images, then Dense on the last axis: (None, 28, 28) -> (None, 28, 16), 28 x 16 + 16 parameters
        using var sequence = new Sequential(new Reshape([28, -1], inputShape: [784], name: "rows"), new Dense(16, "tanh", name: "per_row"),
            new Flatten(name: "flat"), new Dense(10, "softmax", name: "out"));
        string text = sequence.Summary();
        Assert.Matches(@"rows \(Reshape\) +\(None, 28, 28\) +0", text);
        Assert.Matches(@"per_row \(Dense, tanh\) +\(None, 28, 16\) +464", text);
        Assert.Matches(@"flat \(Flatten\) +\(None, 448\) +0", text);
        Assert.Matches(@"out \(Dense, softmax\) +\(None, 10\) +4,490", text);
    }

    [Fact]
    public void DataOfAnotherShapeOrSizeIsRefusedWithBothShapes()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Flatten(inputShape: [28, 28]), new Dense(3, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        var wrongSize = SyntheticImages(8, seed: 1, features: 780);
        var size = Assert.Throws<ArgumentException>(() => model.Fit(wrongSize, new FitOptions { Epochs = 1 }));
        Assert.Contains("(None, 28, 28)", size.Message);
        Assert.Contains("780 features per sample", size.Message);
        var otherShape = SyntheticImages(8, seed: 1).WithSampleShape(14, 56);
        var shape = Assert.Throws<ArgumentException>(() => model.Fit(otherShape, new FitOptions { Epochs = 1 }));
        Assert.Contains("(None, 28, 28)", shape.Message);
        Assert.Contains("(None, 14, 56)", shape.Message);
        // a flat row of 784 fills (28, 28): the storage is the same
        model.Fit(SyntheticImages(8, seed: 1), new FitOptions { Epochs = 1 });
        Assert.Equal(new Shape(28, 28), model.InputShape);
        Assert.Contains("(None, 14, 56)", Assert.Throws<ArgumentException>(() => model.Evaluate(otherShape)).Message);
        Assert.Contains("input shape (None, 28, 28)", Assert.Throws<ArgumentException>(() => model.Evaluate(wrongSize)).Message);

        var wrongDataShape = Assert.Throws<ArgumentException>(() => SyntheticImages(2, seed: 1).WithSampleShape(28, 27));
        Assert.Contains("(28, 27)", wrongDataShape.Message);
    }

    [Fact]
    public void LayersThatNeedFlatRowsOrAFlatOutputSayToAddAFlatten()
    {
        using var backend = new CpuBackend();
        var data = SyntheticImages(8, seed: 1, features: 24);
        using var norm = new Sequential(new Maxout(3, pieces: 2, name: "mo") { InputShape = [4, 6] }, new Dense(3, "softmax"));
        norm.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        var e = Assert.Throws<ArgumentException>(() => norm.Fit(data, new FitOptions { Epochs = 1 }));
        Assert.Contains("'mo' (Maxout)", e.Message);
        Assert.Contains("(None, 4, 6)", e.Message);
        Assert.Contains("Add a Flatten layer before it", e.Message);

        // Dense on (4, 6) gives (None, 4, 3): a loss needs one flat row per sample
        using var sequence = new Sequential(new Dense(3, "softmax") { InputShape = [4, 6] });
        sequence.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend);
        var output = Assert.Throws<ArgumentException>(() => sequence.Fit(data, new FitOptions { Epochs = 1 }));
        Assert.Contains("(None, 4, 3)", output.Message);
        Assert.Contains("Add a Flatten layer", output.Message);
    }

    [Fact]
    public void BatchNormalizationNormalizesEachFeatureOfTheLastAxisOverTheBatchAndTheOtherAxes()
    {
        // Keras' axis=-1: samples of (4, 6) are normalized per feature (6 of them) over the batch and the 4 rows of each sample
        const int batch = 5, steps = 4, features = 6;
        using var backend = new CpuBackend();
        using var g = new ComputationGraph(backend, batch);
        var x = g.CreateTensor("x", new Shape(steps, features), requiresGrad: false);
        var bn = g.Add(new BatchNormNode(g, "bn", x, 0.9f, 1e-3f));
        g.Seal();
        Assert.Equal(new Shape(steps, features), bn.Output.Shape);
        Assert.Equal(2 * features, g.ParameterCount);
        backend.Upload<float>([.. Enumerable.Repeat(1f, features), .. Enumerable.Repeat(0f, features)], g.ParameterBuffer); // gamma 1, beta 0
        var rng = new Random(2);
        var values = Enumerable.Range(0, batch * steps * features).Select(i => (float)(rng.NextDouble() * 4 - 1 + i % features)).ToArray();
        backend.Upload<float>(values, x.Value);
        g.Forward(batch, training: true);
        var y = new float[values.Length];
        backend.Download(bn.Output.Value, y);
        for (int c = 0; c < features; c++)
        {
            var column = Enumerable.Range(0, batch * steps).Select(r => (double)values[r * features + c]).ToArray();
            double mean = column.Average(), variance = column.Select(v => (v - mean) * (v - mean)).Average();
            for (int r = 0; r < batch * steps; r++)
            {
                double expected = (column[r] - mean) / Math.Sqrt(variance + 1e-3);
                Assert.True(Math.Abs(expected - y[r * features + c]) <= 1e-4 + 1e-4 * Math.Abs(expected), $"y[{r}, {c}] {y[r * features + c]} vs {expected}");
            }
        }

        // as a layer: gamma and beta per feature of the last axis, the shape kept
        using var model = new Sequential(new BatchNormalization(name: "bn") { InputShape = [steps, features] }, new Flatten(), new Dense(3, "softmax"));
        string summary = model.Summary();
        Assert.Contains("(None, 4, 6)", summary);
        Assert.Contains($"Total params: {2 * features + 2 * features + steps * features * 3 + 3}", summary); // gamma, beta, the moving statistics, the Dense
    }

    [Fact]
    public void MnistImagesKeepTheirShapeAndFeedAnImageModel()
    {
        var (train, test) = Datasets.Mnist10k();
        Assert.Equal(new Shape(28, 28), train.SampleShape);
        Assert.Equal(new Shape(28, 28), train.Range(0, 10).SampleShape); // subsets keep it
        using var backend = new CpuBackend();
        using var model = new Sequential(new Flatten(inputShape: [28, 28]), new Dense(32, "relu"), new Dense(10, "softmax"));
        model.Compile(new Adam(0.003f), new SparseCategoricalCrossentropy(), backend, seed: 1);
        model.Fit(train.Range(0, 1_000), new FitOptions { Epochs = 2, BatchSize = 32 });
        var result = model.Evaluate(test.Range(0, 500));
        // 1,000 digits, 2 epochs: a 784-32-10 network is far above chance (10%); typically ~80%
        Assert.True(result.Accuracy > 0.5, $"accuracy {result.Accuracy:P1}");
    }

    [Fact]
    public void ReshapeFlattenAndTheInputShapeSurviveSaveAndLoad()
    {
        using var backend = new CpuBackend();
        var data = SyntheticImages(48, seed: 3, features: 24).WithSampleShape(4, 6);
        using var model = ShapedModel();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 5);
        model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 16 });
        string path = Path.Combine(_folder, "shaped.safetensors");
        model.Save(path);

        using var loaded = Sequential.Load(path, backend);
        Assert.Equal(new Shape(4, 6), loaded.InputShape);
        Assert.Equal(["Reshape", "Dense", "Flatten", "Dense"], loaded.Layers.Select(l => l.TypeName));
        Assert.Equal([6, -1], ((Reshape)loaded.Layers[0]).TargetShape);
        Assert.Equal(new Shape(4, 6), loaded.Layers[0].InputShape);
        Assert.Equal(model.Summary(), loaded.Summary());
        Assert.Equal(model.Predict(data.Features), loaded.Predict(data.Features)); // same weights, same CPU arithmetic
        // and it trains on from where it stopped, as the original does
        var again = model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 16 });
        var loadedAgain = loaded.Fit(data, new FitOptions { Epochs = 1, BatchSize = 16 });
        Assert.Equal(again.Epochs[0].Loss, loadedAgain.Epochs[0].Loss);
    }

    [Fact]
    public void AFunctionalModelTakesAnImageInputAndSavesItsShape()
    {
        using var backend = new CpuBackend();
        var data = SyntheticImages(32, seed: 8, features: 24).WithSampleShape(4, 6);
        var input = Functional.Input(4, 6);
        Assert.Equal("SymbolicTensor(None, 4, 6)", input.ToString());
        var rows = new Dense(5, "relu", name: "rows").Apply(input);          // (None, 4, 5)
        var flat = new Flatten(name: "flat").Apply(rows);                     // (None, 20)
        var output = new Dense(3, "softmax", name: "out").Apply(flat);
        Assert.Equal(new Shape(4, 5), rows.Shape);
        Assert.Contains("same shape", Assert.Throws<ArgumentException>(() => Functional.Add(rows, input)).Message);
        Assert.Contains("Flatten", Assert.Throws<ArgumentException>(() => Functional.Concatenate(rows, flat)).Message);
        using var model = Functional.Model(input, output, name: "images");
        Assert.Equal(new Shape(4, 6), model.InputShape);
        string summary = model.Summary();
        Assert.Matches(@"input \(InputLayer\) +\(None, 4, 6\)", summary);
        Assert.Matches(@"rows \(Dense, relu\) +\(None, 4, 5\) +35 +input", summary); // 6 x 5 + 5
        Assert.Matches(@"flat \(Flatten\) +\(None, 20\) +0 +rows", summary);

        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 2);
        model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 8 });
        string path = Path.Combine(_folder, "functional.safetensors");
        model.Save(path);
        using var loaded = Sequential.Load(path, backend);
        Assert.Equal(new Shape(4, 6), loaded.InputShape);
        Assert.Equal(summary, loaded.Summary());
        Assert.Equal(model.Predict(data.Features), loaded.Predict(data.Features));
    }

    [Fact]
    public void TheOnnxFileOfAShapedModelTakesImagesAndAgreesWithPredict()
    {
        using var backend = new CpuBackend();
        var data = SyntheticImages(40, seed: 6, features: 24).WithSampleShape(4, 6);
        using var model = ShapedModel();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 5);
        model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 8 });
        string path = Path.Combine(_folder, "shaped.onnx");
        model.ExportOnnx(path);

        var file = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(["batch", "4", "6"], file.Graph.Input[0].Type.TensorType.Shape.Dim.Select(d => d.DimParam is "" ? d.DimValue.ToString() : d.DimParam));
        Assert.Equal(["Reshape", "MatMul", "Add", "Relu", "Flatten", "Gemm", "Softmax"], file.Graph.Node.Select(n => n.OpType));

        var expected = model.Predict(data.Features);
        using var session = new InferenceSession(path);
        using var x = OrtValue.CreateTensorValueFromMemory(data.Features, [data.Count, 4, 6]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input"], [x], ["output"]);
        var actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        // float32 on both sides, sums of 6 and 30 terms in another order: ~1e-7 apart; 1e-5 + 1e-5 |y| as in OnnxExportTests
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"output {i}: ONNX Runtime {actual[i]}, GpuNet {expected[i]}");
    }

    // ---- helpers ----------------------------------------------------------------------------

    /// <summary>(4, 6) samples reshaped to (6, 4), Dense(5) on the last axis, Flatten (30), Dense(3) softmax.</summary>
    private static Sequential ShapedModel() => new(new Reshape([6, -1], inputShape: [4, 6], name: "transpose_free"),
        new Dense(5, "relu", name: "rows"), new Flatten(name: "flat"), new Dense(3, "softmax", name: "out"));

    /// <summary>Three classes of rows of <paramref name="features"/> values: class c raises the features f with f mod 3 = c by 1, plus uniform noise.</summary>
    private static Dataset SyntheticImages(int rows, int seed, int features = 784)
    {
        var rng = new Random(seed);
        var x = new float[rows * features];
        var y = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            y[r] = r % 3;
            for (int f = 0; f < features; f++) x[r * features + f] = (f % 3 == y[r] ? 1f : 0f) + (float)rng.NextDouble() - 0.5f;
        }
        return new Dataset("images", x, y, features, 3);
    }

    private static float[] Values(Random rng, int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 3 - 1.5))];

    /// <summary>L = sum(y * w) over the batch with a weight per element (written by the caller), so every element of y reaches L with its own factor.</summary>
    private static (Tensor Loss, Tensor Weights) WeightedSum(ComputationGraph g, Tensor y)
    {
        var weights = g.CreateTensor("weights", y.Cols, requiresGrad: false);
        return (g.Sum(g.Multiply(y, weights)), weights);
    }

    /// <summary>
    /// Runs Backward(loss) and compares each element's gradient of <paramref name="inputs"/> (and of every parameter) with
    /// central differences of the loss over <paramref name="rows"/> rows.
    /// </summary>
    private static void CheckGradients(ComputationGraph g, Tensor loss, int rows, IReadOnlyList<Tensor> inputs, string what, bool checkParameters = false)
    {
        var backend = g.Backend;
        g.Forward(rows, training: false);
        g.Backward(loss);
        var leaves = inputs.Select(t => (t.Name, Values: g.Read(t), Analytic: g.ReadGradient(t), Write: (Action<float[]>)(v => g.Write(t, v)))).ToList();
        if (checkParameters)
        {
            var parameters = new float[g.ParameterCount];
            var gradients = new float[g.ParameterCount];
            backend.Download(g.ParameterBuffer, parameters);
            backend.Download(g.GradientBuffer, gradients);
            leaves.Add(("parameters", parameters, gradients, v => backend.Upload<float>(v, g.ParameterBuffer)));
        }
        foreach (var (name, values, analytic, write) in leaves)
        {
            float LossAt()
            {
                write(values);
                g.Forward(rows, training: false);
                return g.Read(loss)[0];
            }
            for (int i = 0; i < values.Length; i++)
            {
                float keep = values[i], up = keep + H, down = keep - H;
                values[i] = up;
                float plus = LossAt();
                values[i] = down;
                float minus = LossAt();
                values[i] = keep;
                double numeric = ((double)plus - minus) / ((double)up - down); // the step actually taken, after rounding
                double err = Math.Abs(analytic[i] - numeric);
                Assert.True(err <= Atol + Rtol * Math.Abs(numeric),
                    $"{what}: d loss / d {name}[{i}]: analytic {analytic[i]:G6}, finite difference {numeric:G6} (error {err:G3})");
            }
            write(values);
        }
    }
}
