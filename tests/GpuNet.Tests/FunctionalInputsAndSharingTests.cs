using System.Text.Json.Nodes;
using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Graph;
using GpuNet.Initializers;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// The functional API's several inputs (<c>Functional.Model([x1, x2], y)</c>, the inputs' values side by side in one row,
/// <see cref="Dataset.JoinFeatures"/>) and shared layers (one layer object applied more than once: one set of weights, the
/// gradients of every use added up), through training, gradients, summary, diagram, save/load and ONNX.
/// </summary>
public sealed class FunctionalInputsAndSharingTests : IDisposable
{
    private readonly CpuBackend _backend = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-functional-inputs-").FullName;

    public void Dispose()
    {
        _backend.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    // ---- data and models --------------------------------------------------------------------

    /// <summary>Blobs' 6 features as a (2, 3) input, and a second input of 3 features that also carries the class.</summary>
    private static (float[] First, float[] Second, Dataset Joined) TwoInputs(int rows, int seed)
    {
        var blobs = TestData.Blobs(rows, seed);
        var rng = new Random(seed + 100);
        var second = new float[rows * 3];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < 3; c++) second[r * 3 + c] = (c == blobs.Labels[r] ? 1f : 0f) + (float)(rng.NextDouble() - 0.5);
        return (blobs.Features, second, new Dataset("two inputs", Dataset.JoinFeatures((blobs.Features, 6), (second, 3)), blobs.Labels, 9, 3));
    }

    /// <summary>(2, 3) -> flatten -> a (5, tanh); (3) -> b (4, relu); [a, b] -> out (3, softmax).</summary>
    private static Sequential TwoInputModel()
    {
        var image = Functional.Input(2, 3);
        var extra = Functional.Input(3);
        var a = new Dense(5, "tanh", name: "a").Apply(new Flatten(name: "flat").Apply(image));
        var b = new Dense(4, "relu", name: "b").Apply(extra);
        return Functional.Model([image, extra], new Dense(3, "softmax", name: "out").Apply(Functional.Concatenate(a, b)), name: "two_inputs");
    }

    /// <summary>Pairs of 4-feature samples, the class r % 3 marked in both halves.</summary>
    private static Dataset Pairs(int rows, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * 8];
        var y = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            y[r] = r % 3;
            for (int c = 0; c < 8; c++) x[r * 8 + c] = (c % 4 == y[r] ? 1f : 0f) + (float)(rng.NextDouble() * 2 - 1);
        }
        return new Dataset("pairs", x, y, 8, 3);
    }

    /// <summary>The Siamese pattern: one encoder (4 -> 5) applied to both inputs, then [enc(left), enc(right)] -> out (3, softmax).</summary>
    private static Sequential Siamese(string activation = "tanh")
    {
        var left = Functional.Input(4);
        var right = Functional.Input(4);
        var encoder = new Dense(5, activation, name: "enc");
        var pair = Functional.Concatenate(encoder.Apply(left), encoder.Apply(right));
        return Functional.Model([left, right], new Dense(3, "softmax", name: "out").Apply(pair), name: "siamese");
    }

    /// <summary>The same graph with two encoders of their own (enc1, enc2) instead of one shared.</summary>
    private static Sequential TwoEncoders(string activation = "tanh")
    {
        var left = Functional.Input(4);
        var right = Functional.Input(4);
        var pair = Functional.Concatenate(new Dense(5, activation, name: "enc1").Apply(left), new Dense(5, activation, name: "enc2").Apply(right));
        return Functional.Model([left, right], new Dense(3, "softmax", name: "out").Apply(pair), name: "two_encoders");
    }

    /// <summary>The gradient of the mean loss over all of <paramref name="data"/> for every parameter, by name (one backward, no update).</summary>
    private Dictionary<string, float[]> Gradients(Sequential model, Dataset data)
    {
        model.GradientNorms(data, batchSize: data.Count);
        return model.Graph!.Parameters.ToDictionary(p => p.Name, p =>
        {
            var g = new float[p.Count];
            _backend.Download(p.Grad, g);
            return g;
        });
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    // x (rows x inF) W + b, then f, row-major
    private static float[] Affine(float[] x, int inF, float[] w, float[] b, Func<float, float> f)
    {
        int rows = x.Length / inF, outF = b.Length;
        var y = new float[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = b[o];
                for (int i = 0; i < inF; i++) s += (double)x[r * inF + i] * w[i * outF + o];
                y[r * outF + o] = f((float)s);
            }
        return y;
    }

    private static float[] Softmax(float[] z, int cols)
    {
        var p = new float[z.Length];
        for (int r = 0; r < z.Length / cols; r++)
        {
            var row = z.AsSpan(r * cols, cols);
            float max = row.ToArray().Max();
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int c = 0; c < cols; c++) p[r * cols + c] = (float)(Math.Exp(row[c] - max) / sum);
        }
        return p;
    }

    private static float[] SideBySide(float[] a, int ca, float[] b, int cb) => Dataset.JoinFeatures((a, ca), (b, cb));

    // ---- several inputs ------------------------------------------------------------------------

    [Fact]
    public void JoinFeaturesPutsEachSamplesInputsSideBySideAndNamesAMismatch()
    {
        float[] left = [1, 2, 3, 4, 5, 6], right = [10, 20, 30];
        Assert.Equal([1, 2, 10, 3, 4, 20, 5, 6, 30], Dataset.JoinFeatures((left, 2), (right, 1)));
        Assert.Equal(left, Dataset.JoinFeatures((left, 3)));

        var e = Assert.Throws<ArgumentException>(() => Dataset.JoinFeatures((left, 2), (right, 3)));
        Assert.Contains("Input 1 has 1 samples (3 values of 3 features), but input 0 has 3 (6 values of 2 features)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Dataset.JoinFeatures((left, 2), ([1, 2, 3, 4], 3)));
        Assert.Contains("Input 1 has 4 values, which are not whole samples of 3 features", e.Message);
        e = Assert.Throws<ArgumentException>(() => Dataset.JoinFeatures());
        Assert.Contains("at least one input", e.Message);
    }

    [Fact]
    public void ATwoInputModelTrainsAndPredictsWhatItsLayersComputeOnEachInputsColumns()
    {
        var (first, second, train) = TwoInputs(300, 1);
        using var model = TwoInputModel();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 3);
        var history = model.Fit(train, new FitOptions { Epochs = 15, BatchSize = 32 });
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss / 2, $"loss {history.Epochs[0].Loss} -> {history.Epochs[^1].Loss}");
        var (_, _, test) = TwoInputs(150, 2);
        Assert.True(model.Evaluate(test).Accuracy > 0.9);
        Assert.Equal(new Shape(9), model.InputShape);

        // the same layers by hand, each on its own input's array: input 0 reaches only a, input 1 only b
        float[] W(string layer, int i) => model.GetWeights(layer)[i].Data;
        var a = Affine(first, 6, W("a", 0), W("a", 1), MathF.Tanh);
        var b = Affine(second, 3, W("b", 0), W("b", 1), v => MathF.Max(v, 0));
        var expected = Softmax(Affine(SideBySide(a, 5, b, 4), 9, W("out", 0), W("out", 1), v => v), 3);
        AssertClose(expected, model.Predict(Dataset.JoinFeatures((first, 6), (second, 3))), 1e-5, "prediction");
    }

    [Fact]
    public void TheSummaryAndDiagramShowEveryInput()
    {
        using var model = TwoInputModel();
        string summary = model.Summary();
        Assert.Matches(@"input_1 \(InputLayer\) +\(None, 2, 3\) +0", summary);
        Assert.Matches(@"input_2 \(InputLayer\) +\(None, 3\) +0", summary);
        Assert.Matches(@"flat \(Flatten\) +\(None, 6\) +0 +input_1", summary);
        Assert.Matches(@"b \(Dense, relu\) +\(None, 4\) +16 +input_2", summary);
        Assert.Matches(@"concatenate_1 \(Concatenate\) +\(None, 9\) +0 +a, b", summary);
        Assert.Contains("Total params: 81 ", summary); // 6*5+5 + 3*4+4 + 9*3+3

        var d = model.Diagram();
        // input_1, input_2, flat, a, b, concatenate_1, out
        Assert.Equal(7, d.Boxes.Count);
        Assert.Equal(["input_1 (InputLayer)", "output: (None, 2, 3)"], d.Boxes[0].Lines);
        Assert.Equal(["input_2 (InputLayer)", "output: (None, 3)"], d.Boxes[1].Lines);
        Assert.True(d.Boxes[0].IsInput && d.Boxes[1].IsInput && !d.Boxes[2].IsInput);
        Assert.Equal([(0, 2), (2, 3), (1, 4), (3, 5), (4, 5), (5, 6)], d.Arrows.Select(e => (e.From, e.To)));

        // a row of the wrong width names every input
        var e = Assert.Throws<ArgumentException>(() => model.Summary(8));
        Assert.Contains("takes 9 values per sample, its 2 inputs side by side (input_1 (None, 2, 3), input_2 (None, 3)), but received 8", e.Message);
        Assert.Contains("Dataset.JoinFeatures", e.Message);
    }

    [Fact]
    public void ATwoInputModelSavesAndLoadsWithItsInputs()
    {
        var (first, second, train) = TwoInputs(120, 4);
        using var model = TwoInputModel();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 3);
        model.Fit(train, new FitOptions { Epochs = 2, BatchSize = 32 });
        string path = Path.Combine(_folder, "two-inputs.safetensors");
        model.Save(path);
        using var loaded = Sequential.Load(path, _backend, out var meta);
        var rows = Dataset.JoinFeatures((first, 6), (second, 3));
        Assert.Equal(model.Predict(rows), loaded.Predict(rows));
        Assert.Equal(model.Summary(), loaded.Summary());
        var block = JsonNode.Parse(meta["config"])!["layers"]![0]!["config"]!;
        Assert.Equal([0, 1], block["input_nodes"]!.AsArray().Select(n => n!.GetValue<int>()));
        // it trains on
        loaded.Fit(train, new FitOptions { Epochs = 1, BatchSize = 32 });
    }

    [Fact]
    public void AWrongListOfInputsIsRefusedWithWhatToDo()
    {
        var x1 = Functional.Input(6);
        var x2 = Functional.Input(3);
        var x3 = Functional.Input(2);
        var a = new Dense(4).Apply(x1);

        var e = Assert.Throws<ArgumentException>(() => Functional.Model([x1, x2], new Dense(3).Apply(a)));
        Assert.Contains("Input 1 of the model ((None, 3)) does not reach the output", e.Message);
        Assert.Contains("leave it out of the inputs", e.Message);

        e = Assert.Throws<ArgumentException>(() => Functional.Model([x1, x1], new Dense(3).Apply(a)));
        Assert.Contains("Inputs 0 and 1 of the model are the same tensor (None, 6): give each input once", e.Message);

        var both = Functional.Concatenate(a, new Dense(4).Apply(x3));
        e = Assert.Throws<ArgumentException>(() => Functional.Model([x1, x2], new Dense(3).Apply(Functional.Concatenate(both, new Dense(2).Apply(x2)))));
        Assert.Contains("The output depends on another input ((None, 2)) than the model's 2: add it to the inputs", e.Message);

        e = Assert.Throws<ArgumentException>(() => Functional.Model([x1, a], new Dense(3).Apply(a)));
        Assert.Contains("Input 1 of the model", e.Message);
        Assert.Contains("is not a model input: every input must come from Functional.Input", e.Message);

        e = Assert.Throws<ArgumentException>(() => Functional.Model([], a));
        Assert.Contains("at least one input", e.Message);

        // the one-input form names what to do as before
        e = Assert.Throws<ArgumentException>(() => Functional.Model(x2, new Dense(3).Apply(a)));
        Assert.Contains("another input", e.Message);
        Assert.Contains("Functional.Model([input, thatInput], output)", e.Message);
    }

    // ---- shared layers -------------------------------------------------------------------------

    [Fact]
    public void ASharedDenseHasOneSetOfWeightsCountedOnceInTheSummary()
    {
        using var model = Siamese();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        model.Evaluate(Pairs(30, 1));
        Assert.Equal(["enc/kernel", "enc/bias", "out/kernel", "out/bias"], model.Graph!.Parameters.Select(p => p.Name));
        Assert.Equal(4 * 5 + 5 + 10 * 3 + 3, model.Graph.ParameterCount);
        Assert.Equal(["enc/kernel", "enc/bias"], model.GetWeights("enc").Select(w => w.Name));

        string summary = model.Summary();
        // one row per layer, as in Keras: the shared layer's row lists both of its inputs and its weights once
        Assert.Matches(@"enc \(Dense, tanh\) +\(None, 5\) +25 +input_1, input_2", summary);
        Assert.Matches(@"concatenate_1 \(Concatenate\) +\(None, 10\) +0 +enc, enc\[1\]", summary);
        Assert.DoesNotContain("enc[1] (Dense", summary);
        Assert.Contains("Total params: 58 ", summary);

        var d = model.Diagram();
        // input_1, input_2, enc, enc[1], concatenate_1, out
        Assert.Equal(["enc[1] (Dense, tanh)", "(None, 4) -> (None, 5)", "params: shared with enc"], d.Boxes[3].Lines);
        Assert.Equal([(0, 2), (1, 3), (2, 4), (3, 4), (4, 5)], d.Arrows.Select(e => (e.From, e.To)));
    }

    [Fact]
    public void ASharedDensesGradientIsTheFiniteDifferenceAndTheSumOfTwoCopiesGradients()
    {
        var data = Pairs(60, 2);
        using var shared = Siamese();
        shared.Compile(new GradientDescent(0.1f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        shared.Evaluate(data); // builds the model
        var enc = shared.GetWeights("enc").Select(w => w.Data).ToArray();
        var output = shared.GetWeights("out").Select(w => w.Data).ToArray();
        var gradient = Gradients(shared, data);

        // central differences of the loss Evaluate computes, through both applications of the one kernel and bias
        const float h = 1e-2f;
        foreach (var (tensor, i) in new[] { (0, 0), (0, 7), (0, 13), (0, 19), (1, 2) })
        {
            double LossAt(float delta)
            {
                var w = enc.Select(a => (float[])a.Clone()).ToArray();
                w[tensor][i] += delta;
                shared.SetWeights("enc", w);
                return shared.Evaluate(data).Loss;
            }
            double numeric = (LossAt(h) - LossAt(-h)) / (2 * h);
            double analytic = gradient[tensor == 0 ? "enc/kernel" : "enc/bias"][i];
            Assert.True(Math.Abs(numeric - analytic) <= 2e-4 + 1e-3 * Math.Abs(numeric), $"enc {(tensor == 0 ? "kernel" : "bias")}[{i}]: backward {analytic}, finite differences {numeric}");
        }
        shared.SetWeights("enc", enc);

        // two encoders of their own with the same weights: the shared gradient is the sum of theirs
        using var copies = TwoEncoders();
        copies.Compile(new GradientDescent(0.1f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        copies.Evaluate(data);
        copies.SetWeights("enc1", enc);
        copies.SetWeights("enc2", enc);
        copies.SetWeights("out", output);
        var separate = Gradients(copies, data);
        var again = Gradients(shared, data);
        foreach (string w in new[] { "kernel", "bias" })
        {
            var sum = separate[$"enc1/{w}"].Zip(separate[$"enc2/{w}"], (p, q) => p + q).ToArray();
            AssertClose(sum, again[$"enc/{w}"], 1e-5, $"enc/{w}");
            Assert.Contains(separate[$"enc1/{w}"], g => Math.Abs(g) > 1e-4); // both applications contribute
            Assert.Contains(separate[$"enc2/{w}"], g => Math.Abs(g) > 1e-4);
        }
        AssertClose(separate["out/kernel"], again["out/kernel"], 1e-5, "out/kernel");
        Assert.Equal(copies.Predict(data.Features), shared.Predict(data.Features));
    }

    [Fact]
    public void ASiameseModelTrainsSavesAndLoadsWithItsLayerStillShared()
    {
        var train = Pairs(240, 3);
        using var model = Siamese("relu");
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        var history = model.Fit(train, new FitOptions { Epochs = 10, BatchSize = 32 });
        Assert.True(history.Epochs[^1].Loss < history.Epochs[0].Loss);
        string path = Path.Combine(_folder, "siamese.safetensors");
        model.Save(path);
        using var loaded = Sequential.Load(path, _backend, out var meta);
        var test = Pairs(50, 4);
        Assert.Equal(model.Predict(test.Features), loaded.Predict(test.Features));
        Assert.Equal(model.Summary(), loaded.Summary());
        Assert.Equal(4, loaded.Graph!.Parameters.Count);

        // the config holds the encoder once; its second application refers to the node of its first
        var nodes = JsonNode.Parse(meta["config"])!["layers"]![0]!["config"]!["nodes"]!.AsArray();
        Assert.Single(nodes, n => n!["layer"]?["name"]?.GetValue<string>() == "enc");
        var again = Assert.Single(nodes, n => n!["same_layer_as"] is not null)!;
        Assert.Equal("enc", nodes[again["same_layer_as"]!.GetValue<int>()]!["layer"]!["name"]!.GetValue<string>());

        // training on moves the one encoder, and both applications still read it
        var before = loaded.GetWeights("enc")[0].Data;
        loaded.Fit(train, new FitOptions { Epochs = 1, BatchSize = 32 });
        Assert.NotEqual(before, loaded.GetWeights("enc")[0].Data);
        Assert.Equal(4, loaded.Graph!.Parameters.Count);
    }

    [Fact]
    public void LayersWithoutWeightsAndUserLayersAreSharedToo()
    {
        // an activation and a dropout applied to both branches, and a user layer whose one weight serves both inputs
        var left = Functional.Input(4);
        var right = Functional.Input(4);
        var scale = new ScaleLayer(name: "scale");
        var act = new ActivationLayer("tanh", name: "act");
        var drop = new Dropout(0.3f, name: "drop");
        var pair = Functional.Concatenate(drop.Apply(act.Apply(scale.Apply(left))), drop.Apply(act.Apply(scale.Apply(right))));
        using var model = Functional.Model([left, right], new Dense(3, "softmax", name: "out").Apply(pair));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        var data = Pairs(60, 5);
        model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 16 });
        Assert.Equal(["scale/scale", "out/kernel", "out/bias"], model.Graph!.Parameters.Select(p => p.Name));
        Assert.Contains("Total params: 31 ", model.Summary()); // 4 + 8*3+3

        // the user layer's weight gets both applications' gradients (a model without dropout: its loss is a smooth function)
        var scale2 = new ScaleLayer(name: "scale");
        var act2 = new ActivationLayer("tanh", name: "act");
        using var plain = Functional.Model([left, right], new Dense(3, "softmax", name: "out").Apply(
            Functional.Concatenate(act2.Apply(scale2.Apply(left)), act2.Apply(scale2.Apply(right)))));
        plain.Compile(new GradientDescent(0.1f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        plain.Evaluate(data);
        var s = plain.GetWeights("scale")[0].Data;
        var gradient = Gradients(plain, data)["scale/scale"];
        const float h = 1e-2f;
        for (int i = 0; i < s.Length; i++)
        {
            double LossAt(float delta)
            {
                var w = (float[])s.Clone();
                w[i] += delta;
                plain.SetWeights("scale", w);
                return plain.Evaluate(data).Loss;
            }
            double numeric = (LossAt(h) - LossAt(-h)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 2e-4 + 1e-3 * Math.Abs(numeric), $"scale[{i}]: backward {gradient[i]}, finite differences {numeric}");
        }
    }

    [Fact]
    public void LayersThatCannotBeSharedAreRefusedWithWhatToDo()
    {
        var x = Functional.Input(4);
        var y = Functional.Input(3);
        var dense = new Dense(5, name: "enc");
        var e = Assert.Throws<ArgumentException>(() => Functional.Model([x, y], Functional.Concatenate(dense.Apply(x), dense.Apply(y))));
        Assert.Contains("Layer 'enc' (Dense) is applied 2 times: its kernel maps the 4 features on the last axis of its first input (None, 4), but it is also applied to (None, 3)", e.Message);
        Assert.Contains("Create one layer per use", e.Message);

        var norm = new Normalization(name: "norm").Adapt(new float[8], 4);
        var z = Functional.Input(4);
        e = Assert.Throws<ArgumentException>(() => Functional.Model([x, z], Functional.Concatenate(norm.Apply(x), norm.Apply(z))));
        Assert.Contains("Layer 'norm' (Normalization) is applied 2 times: its mean and variance were adapted to one input", e.Message);

        var scale = new ScaleLayer(name: "scale");
        e = Assert.Throws<ArgumentException>(() => Functional.Model([x, y], Functional.Concatenate(scale.Apply(x), scale.Apply(y))));
        Assert.Contains("Layer 'scale' (ScaleLayer) is applied 2 times: its weights were built for input (None, 4), but it is also applied to (None, 3)", e.Message);

        // a Dense applied to its own output is shared (an unrolled recurrence), as in Keras
        var square = new Dense(4, "tanh", name: "square");
        using var model = Functional.Model(x, new Dense(3, "softmax").Apply(square.Apply(square.Apply(x))));
        Assert.Contains("Total params: 35 ", model.Summary()); // 4*4+4 + 4*3+3
    }

    // ---- ONNX ---------------------------------------------------------------------------------

    [Fact]
    public void ASiameseModelWithSeveralInputsExportsToOneOnnxInputOfTheJoinedRow()
    {
        var left = Functional.Input(4);
        var right = Functional.Input(2, 2);
        var encoder = new Dense(5, "tanh", name: "enc");
        var act = new ActivationLayer("relu", name: "act");
        var drop = new Dropout(0.2f, name: "drop");
        var flat = new Flatten(name: "flat");
        var pair = Functional.Concatenate(drop.Apply(act.Apply(encoder.Apply(left))), drop.Apply(act.Apply(encoder.Apply(flat.Apply(right)))));
        using var model = Functional.Model([left, right], new Dense(3, "softmax", name: "out").Apply(pair));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), _backend, seed: 5);
        var data = Pairs(90, 6);
        model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 32 });
        string path = Path.Combine(_folder, "siamese.onnx");
        model.ExportOnnx(path);

        using var session = new InferenceSession(path);
        Assert.Equal(["input"], session.InputMetadata.Keys);
        Assert.Equal([-1, 8], session.InputMetadata["input"].Dimensions);
        using var input = OrtValue.CreateTensorValueFromMemory(data.Features, [data.Count, 8]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input"], [input], ["output"]);
        AssertClose(model.Predict(data.Features), outputs[0].GetTensorDataAsSpan<float>().ToArray(), 1e-5, "ONNX output");
    }

    /// <summary>A user-written layer with one weight: y = x * s, s a 1 x In row (Build / Call through LayerBuilder).</summary>
    private sealed class ScaleLayer(string? name = null) : Layer(name)
    {
        private Tensor _scale = null!;

        public override int OutputSize(int inputSize) => inputSize;

        protected override void Build(LayerBuilder builder) => _scale = builder.AddWeight("scale", 1, builder.InputSize, new RandomUniform(0.5f, 1.5f));

        protected override Tensor Call(ComputationGraph graph, Tensor input) => graph.Multiply(input, _scale);
    }
}
