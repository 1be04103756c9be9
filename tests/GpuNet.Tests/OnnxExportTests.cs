using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Data;
using GpuNet.Data.Tabular;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// ONNX export: every exported file runs in ONNX Runtime and gives what GpuNet's own Predict gives, on real data
/// (MNIST-10k, Titanic), for the lecture's model and for every layer and activation.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper log) : IDisposable
{
    private static readonly string TitanicPath = Path.Combine(AppContext.BaseDirectory, "Data", "titanic.csv");
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    /// <summary>The file's output for <paramref name="features"/> (rows x <paramref name="cols"/>), computed by ONNX Runtime.</summary>
    private static float[] RunOnnx(string path, float[] features, int cols)
    {
        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(features, [features.Length / cols, cols]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input"], [input], ["output"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// Asserts |actual - expected| &lt;= 1e-5 + 1e-5 |expected| element-wise and returns the largest absolute difference.
    /// The tolerance: both sides compute in float32, with a different summation order in the GEMMs (784 terms of
    /// magnitude up to ~1 give rounding near 784 * 6e-8 = 5e-5 at worst, ~1e-6 typically, before the softmax shrinks it).
    /// </summary>
    private static double AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            if (!(diff <= 1e-5 + 1e-5 * Math.Abs(expected[i])))
                Assert.Fail($"element {i}: ONNX Runtime {actual[i]:R}, GpuNet {expected[i]:R} (difference {diff:E2}, allowed 1e-5 + 1e-5 |GpuNet|)");
            worst = Math.Max(worst, diff);
        }
        return worst;
    }

    /// <summary>Compiles, fits (for <paramref name="epochs"/> &gt; 0; otherwise only builds), exports and compares on <paramref name="test"/>.</summary>
    private double ExportAndCompare(Sequential model, Loss loss, Dataset train, Dataset test, int epochs, string file)
    {
        using var backend = new CpuBackend();
        model.Compile(new Adam(0.005f), loss, backend, seed: 3);
        if (epochs > 0) model.Fit(train, new FitOptions { Epochs = epochs, BatchSize = 64, Seed = 3 });
        else model.Evaluate(train);
        string path = PathOf(file);
        model.ExportOnnx(path);
        var expected = model.Predict(test.Features);
        double worst = AssertClose(expected, RunOnnx(path, test.Features, test.FeatureCount));
        // the batch dimension is symbolic: one row runs too, and gives that row's outputs
        int outputs = expected.Length / test.Count;
        AssertClose(expected[..outputs], RunOnnx(path, test.Features[..test.FeatureCount], test.FeatureCount));
        log.WriteLine($"{file}: max |ONNX Runtime - GpuNet| = {worst:E2} over {expected.Length:N0} outputs");
        return worst;
    }

    private static (Dataset Train, Dataset Test) Digits(int trainRows = 1_000, int testRows = 500)
    {
        var (train, test) = Datasets.Mnist10k();
        return (train.Range(0, trainRows), test.Range(0, testRows));
    }

    [Fact]
    public void TheLectureModelRunsInOnnxRuntimeAsInGpuNet()
    {
        // 784-128-64-10, ReLU, softmax, SGD 0.01, batch 64, on the whole of MNIST-10k's training split
        var (train, test) = Datasets.Mnist10k();
        using var model = new Sequential(new Dense(128, "relu"), new Dense(64, "relu"), new Dense(10, "softmax"));
        using var backend = new CpuBackend();
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 42);
        model.Fit(train, new FitOptions { Epochs = 3, BatchSize = 64 });
        string path = PathOf("lecture.onnx");
        model.ExportOnnx(path);

        var expected = model.Predict(test.Features);
        var actual = RunOnnx(path, test.Features, 784);
        double worst = AssertClose(expected, actual);
        log.WriteLine($"lecture model, 2,000 test digits: max |ONNX Runtime - GpuNet| = {worst:E2}");
        // the same classes, hence the same test accuracy
        int agree = 0, correct = 0;
        for (int r = 0; r < test.Count; r++)
        {
            int a = ArgMax(actual.AsSpan(r * 10, 10)), e = ArgMax(expected.AsSpan(r * 10, 10));
            if (a == e) agree++;
            if (a == test.Labels[r]) correct++;
        }
        Assert.Equal(test.Count, agree);
        Assert.Equal(model.Evaluate(test).Accuracy, (double)correct / test.Count, 10);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    [InlineData("relu")]
    [InlineData("leaky_relu")]
    [InlineData("elu")]
    [InlineData("swish")]
    [InlineData("softplus")]
    [InlineData("gelu")]
    [InlineData("selu")]
    public void EachActivationRunsInOnnxRuntimeAsInGpuNet(string name)
    {
        // alphas other than the defaults, so that a dropped attribute shows
        Activation activation = name switch { "leaky_relu" => Activation.LeakyRelu(0.2f), "elu" => Activation.Elu(0.5f), _ => name };
        var (train, test) = Digits();
        using var model = new Sequential(new Dense(32, activation), new ActivationLayer(activation), new Dense(10, "softmax"));
        ExportAndCompare(model, new SparseCategoricalCrossentropy(), train, test, epochs: 2, $"{name}.onnx");
    }

    [Fact]
    public void TheStepActivationRunsInOnnxRuntimeAsInGpuNet()
    {
        // Step has no gradient, so the model is only built. It acts on the raw pixels: step of a GEMM output near 0
        // could flip on a last-bit difference between the two GEMMs, while a pixel is 0 or clearly positive on both sides.
        var (train, test) = Digits();
        using var model = new Sequential(new ActivationLayer(Activation.Step), new Dense(10, "softmax"));
        ExportAndCompare(model, new SparseCategoricalCrossentropy(), train, test, epochs: 0, "step.onnx");
    }

    [Fact]
    public void DropoutBatchNormalizationMaxoutAndNormalizationRunInInferenceForm()
    {
        var (train, test) = Digits();
        using var model = new Sequential(
            new Normalization(name: "norm").Adapt(train),
            new Dense(48, "relu", useBias: false, name: "hidden"),
            new BatchNormalization(momentum: 0.8f, name: "bn"), // fast moving statistics: far from their initial 0 and 1 after 32 steps
            new Dropout(0.5f, name: "drop"),
            new Maxout(16, pieces: 3, name: "maxout"),
            new Dense(10, "softmax", name: "out"));
        ExportAndCompare(model, new SparseCategoricalCrossentropy(), train, test, epochs: 2, "layers.onnx");

        // the moving statistics differ from a fresh layer's, so the file must have used them to agree
        var mean = new float[48];
        model.Graph!.Backend.Download(((Graph.BatchNormNode)model.Graph.Nodes.First(n => n is Graph.BatchNormNode)).RunningMean, mean);
        Assert.Contains(mean, m => Math.Abs(m) > 0.1f);
    }

    [Fact]
    public void BatchNormalizationOfImageRowsRunsAsInGpuNet()
    {
        // per pixel column over the batch and the 28 rows of each image: reshaped to rows of the batch around ONNX's BatchNormalization
        var (train, test) = Digits();
        using var model = new Sequential(new Reshape([28, 28]), new BatchNormalization(momentum: 0.8f, name: "bn"), new Flatten(),
            new Dense(10, "softmax"));
        ExportAndCompare(model, new SparseCategoricalCrossentropy(), train, test, epochs: 2, "bn-rows.onnx");
    }

    [Fact]
    public void RescalingRunsInOnnxRuntimeAsInGpuNet()
    {
        // raw 0..255 pixels, scaled inside the model
        var (train, test) = Digits(500, 200);
        static Dataset Raw(Dataset d) => new(d.Name + "/raw", [.. d.Features.Select(v => v * 255f)], d.Labels, d.FeatureCount, d.ClassCount);
        using var model = new Sequential(new Rescaling(1f / 255, -0.5f), new Dense(32, "relu"), new Dense(10, "softmax"));
        ExportAndCompare(model, new SparseCategoricalCrossentropy(), Raw(train), Raw(test), epochs: 1, "rescaling.onnx");
    }

    [Fact]
    public void AFunctionalModelWithBranchesAConcatenationAndAResidualAddRunsAsInGpuNet()
    {
        var (train, test) = Digits();
        var x = Functional.Input(784);
        var h = new Dense(32, "relu", name: "h").Apply(x);
        var a = new Dense(16, "relu", name: "left").Apply(h);
        var b = new Dense(16, "tanh", name: "right").Apply(h);
        var y = new Dense(10, "softmax", name: "out").Apply(Functional.Add(Functional.Concatenate(a, b), h));
        using var model = Functional.Model(x, y);
        ExportAndCompare(model, new SparseCategoricalCrossentropy(), train, test, epochs: 2, "functional.onnx");
    }

    [Fact]
    public void ASoftmaxLayerOutsideTheLossFromLogitsSigmoidAndRegressionOutputsRunAsInGpuNet()
    {
        var (train, test) = Digits();
        // softmax as its own node (mean squared error does not fuse it)
        using (var model = new Sequential(new Dense(32, "relu"), new Dense(10), new ActivationLayer("softmax")))
        {
            var oneHot = Dataset.ForRegression("digits/one-hot", train.Features, Encoding.ToCategorical(train.Labels, 10), 784, 10);
            ExportAndCompare(model, new MeanSquaredError(), oneHot, test, epochs: 2, "softmax-layer.onnx");
        }
        // logits: the file outputs what Predict does, without a softmax
        using (var model = new Sequential(new Dense(32, "tanh"), new Dense(10)))
            ExportAndCompare(model, new SparseCategoricalCrossentropy(fromLogits: true), train, test, epochs: 2, "logits.onnx");
        // one sigmoid output fused with binary cross-entropy: is the digit 5 or more?
        static Dataset Binary(Dataset d) => new($"{d.Name}/5+", d.Features, [.. d.Labels.Select(l => l >= 5 ? 1 : 0)], 784, 2);
        using (var model = new Sequential(new Dense(32, "relu"), new Dense(1, "sigmoid")))
            ExportAndCompare(model, new BinaryCrossentropy(), Binary(train), Binary(test), epochs: 2, "sigmoid.onnx");
        // regression: the digit's value, a linear output
        using (var model = new Sequential(new Dense(32, "relu"), new Dense(1)))
        {
            var values = Dataset.ForRegression("digits/value", train.Features, [.. train.Labels.Select(l => (float)l)], 784);
            ExportAndCompare(model, new MeanSquaredError(), values, test, epochs: 2, "regression.onnx");
        }
    }

    [Fact]
    public void ATitanicModelExportedByTheCommandLineRunsOnItsSavedPreprocessing()
    {
        string saved = PathOf("titanic.safetensors"), onnx = PathOf("titanic.onnx");
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", $"csv:{TitanicPath}", "--target", "survived",
            "--layers", "16,8", "--batchnorm", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.01", "--epochs", "10", "--batch-size", "32", "--save", saved);
        Assert.True(code == 0, error);
        (code, output, error) = TestData.RunCli("export", "--model", saved, "--onnx", onnx);
        Assert.True(code == 0, error);
        Assert.Contains($"to {onnx}", output);
        Assert.Contains("output 'output' [batch, 1] (probabilities)", output);
        Assert.Contains("gpunet.preprocessor", output);

        // one sigmoid output: p(survived); the preprocessing travels in the ONNX file: encode the CSV rows with it, then run the file
        var file = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        var prep = TabularPreprocessor.FromJson(file.MetadataProps.Single(p => p.Key == PredictCommand.PreprocessorKey).Value);
        var table = CsvTable.Load(TitanicPath);
        var features = prep.TransformFeatures(table);
        using var backend = new CpuBackend();
        using var model = Sequential.Load(saved, backend);
        var expected = model.Predict(features);
        double worst = AssertClose(expected, RunOnnx(onnx, features, model.InputSize));
        log.WriteLine($"Titanic, {table.RowCount:N0} rows of {model.InputSize} encoded features: max |ONNX Runtime - GpuNet| = {worst:E2}");
    }

    [Fact]
    public void TheFileNamesItsInputOutputWeightsAndSymbolicBatch()
    {
        var (train, _) = Digits(200);
        using var model = new Sequential(new Dense(16, "relu", name: "hidden"), new Dense(10, "softmax", name: "out"));
        using var backend = new CpuBackend();
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(train, new FitOptions { Epochs = 1 });
        string path = PathOf("named.onnx");
        File.WriteAllText(path, "an older file, replaced whole");
        model.ExportOnnx(path, new Dictionary<string, string> { ["trained_on"] = "mnist-10k" });

        var file = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(Sequential.OnnxOpset, file.OpsetImport.Single().Version);
        Assert.Equal("GpuNet", file.ProducerName);
        Assert.Equal("mnist-10k", file.MetadataProps.Single(p => p.Key == "trained_on").Value);
        var input = file.Graph.Input.Single();
        Assert.Equal("input", input.Name);
        Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(784, input.Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal(10, file.Graph.Output.Single().Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal(["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"], file.Graph.Initializer.Select(t => t.Name));
        Assert.Equal([784L, 16L], file.Graph.Initializer[0].Dims);
        Assert.Equal(["Gemm", "Relu", "Gemm", "Softmax"], file.Graph.Node.Select(n => n.OpType));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp")); // the temporary file was renamed
    }

    [Fact]
    public void ExportingAModelWithoutWeightsOrToAMissingFolderSaysWhatToDo()
    {
        using var model = new Sequential(new Dense(10, "softmax"));
        var e = Assert.Throws<InvalidOperationException>(() => model.ExportOnnx(PathOf("m.onnx")));
        Assert.Contains("Fit it", e.Message);

        using var backend = new CpuBackend();
        model.Compile(new Sgd(0.01f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(TestData.Blobs(30, 1), new FitOptions { Epochs = 1 });
        var missing = Assert.Throws<DirectoryNotFoundException>(() => model.ExportOnnx(PathOf("no/such/folder/m.onnx")));
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public void TheExportCommandRejectsAMissingModelAndWritingOverIt()
    {
        var (code, _, error) = TestData.RunCli("export", "--model", PathOf("none.safetensors"), "--onnx", PathOf("m.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", error);
        Assert.False(File.Exists(PathOf("m.onnx")));

        (code, _, error) = TestData.RunCli("export", "--model", PathOf("m.safetensors"), "--onnx", PathOf("m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("is the --model file", error);
    }
}
