using System.Globalization;
using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Layers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// The lecture's choices on one command line: a layer spec (--layers 128:relu,dropout:0.3,64:leaky_relu:0.1),
/// maxout and the alphas as activations, --loss and --from-logits, --scaler, and the warning for a hidden softmax.
/// Each trains one or two epochs of MNIST-10k.
/// </summary>
public class LectureCliTests
{
    private static double TestAccuracy(string output) =>
        double.Parse(output.Split('\n').Single(l => l.StartsWith("Test:", StringComparison.Ordinal)).Split("accuracy ")[1].Split(' ')[0], CultureInfo.InvariantCulture);

    [Fact]
    public void ALayerSpecParsesEveryKindOfItem()
    {
        var specs = LayerSpec.Parse("128:relu, dropout:0.3,64:leaky_relu:0.1,32:maxout:3,batchnorm,16");
        Assert.Equal(6, specs.Length);
        var first = Assert.IsType<LayerSpec.DenseLayer>(specs[0]);
        Assert.Equal(128, first.Units);
        Assert.Equal(ActivationKind.Relu, first.Activation!.Activation!.Kind);
        Assert.Equal(0.3f, Assert.IsType<LayerSpec.DropoutLayer>(specs[1]).Rate);
        var leaky = Assert.IsType<LayerSpec.DenseLayer>(specs[2]).Activation!.Activation!;
        Assert.Equal((ActivationKind.LeakyRelu, 0.1f), (leaky.Kind, leaky.Alpha));
        Assert.Equal(3, Assert.IsType<LayerSpec.DenseLayer>(specs[3]).Activation!.MaxoutPieces);
        Assert.IsType<LayerSpec.BatchNormLayer>(specs[4]);
        Assert.Null(Assert.IsType<LayerSpec.DenseLayer>(specs[5]).Activation); // takes --activation
        Assert.Empty(LayerSpec.Parse("none"));
        Assert.Equal(0.5f, ActivationSpec.Parse("elu:0.5", "--activation").Activation!.Alpha);
    }

    [Theory]
    [InlineData("--layers", "128:relu,dropout:1.5", "'dropout:1.5' is not understood (dropout takes a rate in [0, 1)")]
    [InlineData("--layers", "128,x", "'x' is not understood (it is not a positive width")]
    [InlineData("--layers", "12:foo", "--layers item '12:foo': Unknown activation 'foo'")]
    [InlineData("--layers", "12:leaky_relu:2", "alpha must be in [0, 1); received alpha=2")]
    [InlineData("--layers", "12:relu:0.5", "'relu' takes no parameter")]
    [InlineData("--activation", "maxout:1", "maxout takes the number of pieces per unit, an integer >= 2")]
    [InlineData("--activation", "elu:abc", "alpha 'abc' is not a number")]
    [InlineData("--loss", "binary_crossentropy", "--loss binary_crossentropy needs two classes, but the data has 10")]
    [InlineData("--loss", "hinge", "hinge")]
    [InlineData("--label-smoothing", "1.5", "--label-smoothing must be in [0, 1)")]
    public void BadLectureOptionsGetAClearMessage(string option, string value, string expected)
    {
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", option, value);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error); // no stack trace
    }

    [Fact]
    public void MseWithFromLogitsIsRefused()
    {
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--loss", "mse", "--from-logits");
        Assert.Equal(1, code);
        Assert.Contains("--from-logits applies to the cross-entropy losses", error);
    }

    [Fact]
    public void ALectureModelOnOneLineTrains()
    {
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2",
            "--layers", "128:relu,dropout:0.3,64:leaky_relu:0.1,32:maxout:3,batchnorm");
        Assert.True(code == 0, error);
        // 784*128+128 = 100,480; 128*64+64 = 8,256; maxout 64*32*3 + 32*3 = 6,240; batch norm 2*32 trainable = 64
        // (and its 2*32 moving statistics, not trained); 32*10+10 = 330
        Assert.Contains("Trainable params: 115,370", output);
        Assert.Contains("Non-trainable params: 64", output);
        Assert.Contains("leaky_relu(0.1)", output);
        Assert.Contains("maxout_0 (Maxout)", output);
        Assert.Contains("dropout_0 (Dropout)", output);
        Assert.InRange(TestAccuracy(output), 0.6, 1.0); // 85.2% measured; chance is 10%
    }

    [Fact]
    public void MaxoutAsTheActivationMakesEveryHiddenLayerMaxout()
    {
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--layers", "32,16", "--activation", "maxout:2");
        Assert.True(code == 0, error);
        Assert.Contains("maxout_0 (Maxout)", output);
        Assert.Contains("maxout_1 (Maxout)", output);
        // (784+1)*32*2 + (32+1)*16*2 + (16+1)*10 = 50,240 + 1,056 + 170
        Assert.Contains("Total params: 51,466", output);
    }

    [Theory]
    [InlineData("categorical_crossentropy", false, "loss: categorical_crossentropy")]
    [InlineData("sparse_categorical_crossentropy", true, "loss: sparse_categorical_crossentropy(from_logits=True)")]
    [InlineData("categorical_crossentropy", true, "loss: categorical_crossentropy(from_logits=True)")]
    [InlineData("mse", false, "loss: mean_squared_error")]
    public void EachLossTrainsTheLectureModel(string loss, bool fromLogits, string shown)
    {
        string[] args = ["train", "--device", "cpu", "--epochs", "2", "--loss", loss, .. fromLogits ? new[] { "--from-logits" } : []];
        var (code, output, error) = TestData.RunCli(args);
        Assert.True(code == 0, error);
        Assert.Contains(shown, output);
        // two epochs of SGD 0.01: cross-entropy reaches 74-82% here, MSE on softmax learns slower (its gradient
        // carries the softmax's slope) but leaves chance (10%) behind
        Assert.InRange(TestAccuracy(output), loss == "mse" ? 0.15 : 0.6, 1.0);
        if (fromLogits) Assert.Matches(@"dense_2 \(Dense\)\s", output); // a linear output: no activation shown
    }

    [Fact]
    public void ASoftmaxHiddenLayerIsWarnedAbout()
    {
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--layers", "64:softmax,32");
        Assert.Equal(0, code);
        Assert.Contains("warning: Layer 'dense' is a hidden layer with softmax", error);
        (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--layers", "64");
        Assert.Equal(0, code);
        Assert.DoesNotContain("softmax", error);
    }

    [Fact]
    public void TheScalerChoiceShowsWhyScalingMatters()
    {
        // the lecture: /255 (minmax) and standardization train plain SGD at lr 0.01; unscaled 0-255 pixels blow the
        // loss up (5.3e9 in epoch 1, against 90.7 untrained: 10.7% accuracy once), which stops the run and names the inputs
        var results = new Dictionary<string, double>();
        foreach (var scaler in new[] { "minmax", "standard" })
        {
            var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--scaler", scaler);
            Assert.True(code == 0, error);
            results[scaler] = TestAccuracy(output);
            if (scaler == "standard") Assert.Contains("normalization (Normalization)", output);
        }
        Assert.InRange(results["minmax"], 0.7, 1.0);   // 79.9% measured
        Assert.InRange(results["standard"], 0.7, 1.0); // 86.3% measured
        var (stopped, _, diverged) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--scaler", "none");
        Assert.Equal(1, stopped);
        Assert.Contains("Training diverged in epoch 1", diverged);
        Assert.Contains("The inputs reach 255: scale them", diverged);
    }

    [Fact]
    public void AModelTrainedOnRawPixelsIsEvaluatedOnRawPixels()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-scaler-").FullName, model = Path.Combine(folder, "raw.safetensors");
        try
        {
            // a small learning rate makes raw pixels trainable; evaluate must feed the same raw pixels
            var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--scaler", "none", "--lr", "0.0001", "--save", model);
            Assert.True(code == 0, error);
            string trained = output.Split('\n').Single(l => l.StartsWith("Test:", StringComparison.Ordinal)).Trim();
            (code, output, error) = TestData.RunCli("evaluate", "--model", model, "--device", "cpu");
            Assert.True(code == 0, error);
            Assert.Contains(trained["Test: ".Length..], output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void StandardizingImagesUsesOneMeanAndVariance()
    {
        // x = rows (0, 2) and (2, 4): all four values have mean 2 and variance 2
        var norm = new Normalization().Adapt([0f, 2f, 2f, 4f], 2, perFeature: false);
        Assert.Equal([2f, 2f], norm.Mean!);
        Assert.Equal([2f, 2f], norm.Variance!);
        var perFeature = new Normalization().Adapt([0f, 2f, 2f, 4f], 2);
        Assert.Equal([1f, 3f], perFeature.Mean!);
        Assert.Equal([1f, 1f], perFeature.Variance!);
    }

    [Fact]
    public void XorShowsTheLinearModelFailAndTheHiddenLayerSucceed()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-xor-").FullName, png = Path.Combine(folder, "xor.png");
        try
        {
            var (code, output, error) = TestData.RunCli("xor", "--seeds", "10", "--plot", png);
            Assert.True(code == 0, error);
            // a linear boundary can never separate XOR; the 2-2-1 tanh net solved it from 4 of 10 seeds when measured
            Assert.Matches(@"linear \(2-1, sigmoid\)\s+0/10", output);
            Assert.Matches(@"two linear layers \(2-2-1\)\s+0/10", output);
            var solved = System.Text.RegularExpressions.Regex.Match(output, @"2-2-1, tanh hidden layer\s+(\d+)/10\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)");
            Assert.True(solved.Success, output);
            Assert.InRange(int.Parse(solved.Groups[1].Value, CultureInfo.InvariantCulture), 1, 10);
            var p = Enumerable.Range(2, 4).Select(g => double.Parse(solved.Groups[g].Value, CultureInfo.InvariantCulture)).ToArray();
            Assert.True(p[0] < 0.5 && p[1] > 0.5 && p[2] > 0.5 && p[3] < 0.5, output);
            var bytes = File.ReadAllBytes(png);
            Assert.Equal(1120, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16))); // two 560-pixel panels
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AFourRowTableTrainsOnEveryRow()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-xor-csv-").FullName, csv = Path.Combine(folder, "xor.csv");
        try
        {
            File.WriteAllText(csv, "x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
            var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--dataset", "csv:" + csv, "--target", "y",
                "--layers", "8:tanh", "--optimizer", "adam", "--lr", "0.05", "--epochs", "300");
            Assert.True(code == 0, error);
            Assert.Contains("4 rows: too few to hold out a test set", output);
            Assert.Contains("4 training rows: too few for a validation split, so every row trains", output);
            Assert.Contains("Data: xor/train 4 train / 0 validation, xor/test 4 test", output);
            Assert.Contains("(4 samples)", output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void LabelSmoothingTrainsOnSoftTargets()
    {
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--label-smoothing", "0.1");
        Assert.True(code == 0, error);
        Assert.Contains("loss: categorical_crossentropy", output);
        Assert.InRange(TestAccuracy(output), 0.6, 1.0); // 2 epochs: 79% measured at 3 epochs
        // the training loss cannot go below the smoothed targets' entropy, -(0.91 ln 0.91 + 9 * 0.01 ln 0.01) = 0.50
        var last = output.Split('\n').Last(l => l.StartsWith("Epoch 2/2", StringComparison.Ordinal));
        Assert.InRange(double.Parse(last.Split("- loss: ")[1].Split(' ')[0], CultureInfo.InvariantCulture), 0.5, 3.0);

        (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--label-smoothing", "0.1", "--loss", "sparse_categorical_crossentropy");
        Assert.Equal(1, code);
        Assert.Contains("use it with --loss categorical_crossentropy", error);
    }

    [Fact]
    public void FreezeKeepsTheNamedLayersWeightsWhileTheRestFineTunes()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-freeze-").FullName;
        string first = Path.Combine(folder, "first.safetensors"), tuned = Path.Combine(folder, "tuned.safetensors");
        try
        {
            var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--save", first);
            Assert.True(code == 0, error);
            (code, var output, error) = TestData.RunCli("train", "--device", "cpu", "--resume", first, "--epochs", "2", "--freeze", "dense", "--save", tuned);
            Assert.True(code == 0, error);
            Assert.Contains("Frozen (weights kept as they are): dense", output);
            Assert.Contains("Non-trainable params: 100,480", output); // 784*128 + 128

            using var backend = new Backends.CpuBackend();
            using var before = Models.Sequential.Load(first, backend);
            using var after = Models.Sequential.Load(tuned, backend);
            // epoch 2 moved every layer but the frozen one
            Assert.Equal(before.GetWeights("dense").Select(w => w.Data), after.GetWeights("dense").Select(w => w.Data));
            Assert.NotEqual(before.GetWeights("dense_1")[0].Data, after.GetWeights("dense_1")[0].Data);

            (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--freeze", "dens");
            Assert.Equal(1, code);
            Assert.Contains("--freeze dens: The model has no layer named 'dens'. Its layers are: dense, dense_1, dense_2.", error);
            (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "1", "--dropout", "0.2", "--freeze", "dropout_0");
            Assert.Equal(1, code);
            Assert.Contains("layer 'dropout_0' (Dropout) has no trainable weights", error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
