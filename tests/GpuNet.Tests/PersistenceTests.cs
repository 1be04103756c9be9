using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Data;
using GpuNet.Kernels;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>The safetensors reader and writer, and saving, loading and re-compiling models.</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-persist-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static Dataset Blobs(int rows, int seed) => TestData.Blobs(rows, seed);

    /// <summary>Every layer kind, regularization and a stateful optimizer with a schedule: all of it must survive a save.</summary>
    private static Sequential RichModel(Dataset adaptTo) => new(
        new Normalization(name: "norm").Adapt(adaptTo),
        new Dense(8, Activation.LeakyRelu(0.1f), useBias: false, kernelRegularizer: Regularizer.ElasticNet(1e-3f, 1e-3f), name: "hidden"),
        new BatchNormalization(momentum: 0.9f, name: "bn"),
        new ActivationLayer(Activation.Elu(0.5f), name: "elu"),
        new Dropout(0.2f, name: "drop"),
        new Maxout(5, pieces: 3, name: "maxout"),
        new Dense(3, "softmax", name: "out"));

    [Fact]
    public void SafeTensorsRoundTripsWithAnAlignedHeaderAndExactOffsets()
    {
        string path = PathOf("t.safetensors");
        NamedTensor[] tensors = [new("a", [2, 3], [1, 2, 3, 4, 5, 6]), new("b/c", [1], [-0.5f]), new("empty", [0], [])];
        SafeTensorsFile.Write(path, tensors, new Dictionary<string, string> { ["k"] = "v" });

        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0ul, n % 8); // the data section starts 8-byte aligned
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))!.AsObject();
        Assert.Equal("F32", header["a"]!["dtype"]!.GetValue<string>());
        Assert.Equal([0L, 24L], header["a"]!["data_offsets"]!.AsArray().Select(v => v!.GetValue<long>()));
        Assert.Equal([24L, 28L], header["b/c"]!["data_offsets"]!.AsArray().Select(v => v!.GetValue<long>()));
        Assert.Equal(8 + (long)n + 28, bytes.Length);
        Assert.Equal(-0.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 24)));

        var (read, meta) = SafeTensorsFile.Read(path);
        Assert.Equal("v", meta["k"]);
        Assert.Equal(tensors.Select(t => t.Name), read.Select(t => t.Name));
        for (int i = 0; i < tensors.Length; i++)
        {
            Assert.Equal(tensors[i].Shape, read[i].Shape);
            Assert.Equal(tensors[i].Data, read[i].Data);
        }
        Assert.Single(Directory.GetFiles(_folder)); // no temporary file left behind
    }

    public static TheoryData<string, string> DamagedFiles() => new()
    {
        { "short", "too short" },
        { "truncated", "truncated" },
        { "f16", "dtype F16" },
        { "gap", "gap or an overlap" },
        { "shape", "data_offsets" },
        { "json", "not valid JSON" },
        { "duplicate", "not valid JSON" },
        { "utf8", "not valid JSON" },
        { "null-dim", "shape entry 0 (null)" },
        { "negative-dim", "not an integer >= 0" },
        { "overflow", "do not match" },
        { "huge", "do not match" },
    };

    [Theory]
    [MemberData(nameof(DamagedFiles))]
    public void DamagedFilesAreRejectedWithAMessageSayingWhat(string damage, string expected)
    {
        string path = PathOf("t.safetensors");
        SafeTensorsFile.Write(path, [new("w", [2, 2], [1, 2, 3, 4])]);
        byte[] good = File.ReadAllBytes(path);
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        string json = Encoding.UTF8.GetString(good, 8, n);
        byte[] WithHeader(string h, int dataBytes)
        {
            byte[] hb = Encoding.UTF8.GetBytes(h);
            var b = new byte[8 + hb.Length + dataBytes];
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)hb.Length);
            hb.CopyTo(b, 8);
            return b;
        }
        byte[] damaged = damage switch
        {
            "short" => good[..5],
            "truncated" => good[..^4],
            "f16" => WithHeader(json.Replace("F32", "F16"), 16),
            "gap" => WithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16),
            "shape" => WithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,16]}}", 16),
            "duplicate" => WithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"w\":{}}", 16),
            "utf8" => WithUtf8Error(WithHeader("{\"__metadata__\":{\"k\":\"ab\"},\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16)),
            "null-dim" => WithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,16]}}", 16),
            "negative-dim" => WithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,0],\"data_offsets\":[0,0]},\"v\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16),
            // 2^30 x 2^30 x 4 elements wrap to 0 bytes in 64-bit arithmetic; the reader must not be fooled.
            "overflow" => WithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824,4],\"data_offsets\":[0,0]},\"v\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16),
            "huge" => WithHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536,65536],\"data_offsets\":[0,16]}}", 16),
            _ => WithHeader("{\"w\":", 16),
        };
        File.WriteAllBytes(path, damaged);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    /// <summary>Replaces the metadata value "ab" with the bytes 0xC3 0x28, an invalid UTF-8 sequence.</summary>
    private static byte[] WithUtf8Error(byte[] file)
    {
        int at = file.AsSpan().IndexOf("\"ab\""u8);
        file[at + 1] = 0xC3;
        file[at + 2] = 0x28;
        return file;
    }

    [Fact]
    public void AFailedWriteLeavesTheExistingFileWhole()
    {
        string path = PathOf("keep.safetensors");
        SafeTensorsFile.Write(path, [new("w", [3], [1, 2, 3])]);
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [new("w", [3], [1, 2, 3]), new("w", [1], [4])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [new("w", [2, 2], [1, 2, 3])]));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder));
        var e = Assert.Throws<DirectoryNotFoundException>(() => SafeTensorsFile.Write(PathOf("no/such/folder/m.safetensors"), []));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void ASavedModelLoadsAndPredictsEvaluatesAndTrainsOnExactlyLikeTheOriginal()
    {
        var data = Blobs(120, 1);
        var test = Blobs(60, 2);
        var fit = new FitOptions { Epochs = 3, BatchSize = 16, Seed = 7 };
        using var backend = new CpuBackend();
        using var model = RichModel(data);
        model.Compile(new Adam(new ExponentialDecay(0.01f, 10, 0.9f)), new SparseCategoricalCrossentropy(), backend, seed: 5);
        model.Fit(data, fit);
        string path = PathOf("rich.safetensors");
        model.Save(path, new Dictionary<string, string> { ["note"] = "blobs" });

        using var loaded = Sequential.Load(path, backend, out var meta);
        Assert.Equal("blobs", meta["note"]);
        Assert.Equal(model.Iterations, loaded.Iterations);
        Assert.Equal(24, loaded.Iterations); // 3 epochs of 8 batches
        Assert.Equal(model.Layers.Select(l => (l.Name, l.TypeName)), loaded.Layers.Select(l => (l.Name, l.TypeName)));
        Assert.Equal(model.Summary(6), loaded.Summary(6));
        Assert.Equal(model.Optimizer!.Name, loaded.Optimizer!.Name);

        Assert.Equal(model.Predict(test.Features), loaded.Predict(test.Features)); // bit for bit on the same backend
        Assert.Equal(model.Evaluate(test).Loss, loaded.Evaluate(test).Loss);

        // Adam's moments, its step count, the batch-norm statistics and the dropout stream all carry over:
        // one more epoch on each gives the same losses.
        var more = fit with { Epochs = 2 };
        var a = model.Fit(data, more).Epochs;
        var b = loaded.Fit(data, more).Epochs;
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Loss, b[i].Loss, 1e-6);
        Assert.Equal(model.Predict(test.Features), loaded.Predict(test.Features));
    }

    [Fact]
    public void AModelSavedOnTheCpuBackendLoadsOnTheIlgpuKernels()
    {
        var data = Blobs(90, 3);
        using var cpu = new CpuBackend();
        using var model = RichModel(data);
        model.Compile(new Sgd(0.05f, momentum: 0.9f), new SparseCategoricalCrossentropy(), cpu, seed: 2);
        model.Fit(data, new FitOptions { Epochs = 2, BatchSize = 30 });
        string path = PathOf("m.safetensors");
        model.Save(path);

        using var ilgpu = IlgpuBackend.IsCudaAvailable() ? IlgpuBackend.CreateCuda() : IlgpuBackend.CreateCpu();
        using var loaded = Sequential.Load(path, ilgpu);
        var expected = model.Predict(data.Features);
        var actual = loaded.Predict(data.Features);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"output {i}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void RecompilingKeepsTheWeightsAndStartsTheOptimizerAfresh()
    {
        var data = Blobs(90, 4);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(8, "tanh"), new Dense(3, "softmax"));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend, seed: 1);
        model.Fit(data, new FitOptions { Epochs = 3, BatchSize = 15 });
        var before = model.Predict(data.Features);
        Assert.Equal(18, model.Iterations);

        using var other = new CpuBackend(); // a different device object: the weights move with the model
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), other);
        Assert.Equal(0, model.Iterations);
        Assert.Equal(before, model.Predict(data.Features));
    }

    [Fact]
    public void FittingWithALargerBatchThanTheModelWasBuiltForRebuildsItAndKeepsTheWeights()
    {
        var data = Blobs(300, 5);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(3, "softmax"));
        model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy(), backend, seed: 3);
        model.Fit(data, new FitOptions { Epochs = 10, BatchSize = 10 });
        var trained = model.Evaluate(data, batchSize: 10);
        Assert.Equal(10, model.Graph!.BatchCapacity);
        Assert.True(trained.Loss < 0.5, $"trained loss {trained.Loss}");

        var h = model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 100 });
        Assert.Equal(100, model.Graph!.BatchCapacity); // not silently trained at 10
        Assert.Equal(3, h.Epochs[0].Steps);
        Assert.True(h.Epochs[0].Loss < trained.Loss * 1.5 + 0.05, $"loss after the rebuild {h.Epochs[0].Loss} (before {trained.Loss}): the weights were lost");
    }

    /// <summary>A model that overfits 300 MNIST digits with full-batch GD: val_loss turns up within tens of epochs.</summary>
    private static (Sequential Model, Dataset Train, Dataset Validation) Overfitting(IBackend backend)
    {
        var all = Datasets.Mnist10k().Train;
        var model = new Sequential(new Dense(32, "relu"), new Dense(10, "softmax"));
        model.Compile(new GradientDescent(0.5f), new SparseCategoricalCrossentropy(), backend);
        return (model, all.Range(0, 300), all.Range(300, 300));
    }

    [Fact]
    public void EarlyStoppingCanRestoreTheBestEpochsWeights()
    {
        using var backend = new CpuBackend();
        var (model, train, validation) = Overfitting(backend);
        using var _ = model;
        var stop = new EarlyStopping(patience: 3, restoreBestWeights: true);
        var h = model.Fit(train, new FitOptions { Epochs = 300, ValidationData = validation, EarlyStopping = stop });

        Assert.True(stop.StoppedEpoch > stop.BestEpoch, $"stopped {stop.StoppedEpoch}, best {stop.BestEpoch}");
        Assert.Equal(stop.BestEpoch, stop.RestoredEpoch);
        double bestValLoss = h.Epochs[stop.BestEpoch - 1].ValidationLoss!.Value;
        Assert.True(h.Epochs[^1].ValidationLoss > bestValLoss);
        Assert.Equal(bestValLoss, model.Evaluate(validation).Loss, 1e-5); // the model holds the best epoch's weights
    }

    [Fact]
    public void SavingAnUnbuiltModelAndLoadingForeignFilesGiveClearErrors()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(3, "softmax"));
        model.Compile(new Sgd(), new SparseCategoricalCrossentropy(), backend);
        var e1 = Assert.Throws<InvalidOperationException>(() => model.Save(PathOf("x.safetensors")));
        Assert.Contains("Fit", e1.Message);

        string foreign = PathOf("foreign.safetensors");
        SafeTensorsFile.Write(foreign, [new("weight", [2], [1, 2])]);
        var e2 = Assert.Throws<InvalidDataException>(() => Sequential.Load(foreign, backend));
        Assert.Contains("not a GpuNet model", e2.Message);

        // A GpuNet file whose weights were removed: the mismatch is named when the model is built.
        var data = Blobs(30, 6);
        model.Fit(data, new FitOptions { Epochs = 1 });
        string path = PathOf("m.safetensors");
        model.Save(path);
        var (tensors, meta) = SafeTensorsFile.Read(path);
        string missing = model.Graph!.Parameters[0].Name;
        SafeTensorsFile.Write(path, [.. tensors.Where(t => t.Name != missing)], meta);
        var e3 = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, backend)); // built at once, so it fails here
        Assert.Contains(missing, e3.Message);
        Assert.Contains(path, e3.Message);
    }

    [Fact]
    public void TheCliSavesAModelThatEvaluateReloadsWithTheSameTestAccuracy()
    {
        string path = PathOf("mnist.safetensors");
        var (code, trained, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "2", "--save", path);
        Assert.True(code == 0, error);
        Assert.Contains("Saved the model to", trained);
        string testLine = trained.Split('\n').Single(l => l.StartsWith("Test: ", StringComparison.Ordinal)).Trim();

        (code, var evaluated, error) = TestData.RunCli("evaluate", "--model", path, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("784 inputs", evaluated);
        // "Test: loss L - accuracy A (2,000 samples)" in both: the same data, the same weights.
        string figures = testLine["Test: ".Length..];
        Assert.Contains($"Test (mnist-10k/test): {figures}", evaluated);
    }

    [Fact]
    public void TheCliChecksTheSavePathBeforeTrainingAndReportsBadModelFilesInOneLine()
    {
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--save", PathOf("missing/m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", error);
        Assert.DoesNotContain("Epoch", output); // failed before training

        File.WriteAllText(PathOf("bad.safetensors"), "not a model");
        (code, _, error) = TestData.RunCli("evaluate", "--model", PathOf("bad.safetensors"));
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void LayerNamesMustBeUniqueAndNotReservedAndAnyOtherNameRoundTrips()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential(new Dense(4, name: "x"), new Dense(3, "softmax", name: "x")));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("__", Assert.Throws<ArgumentException>(() => new Sequential(new Dense(3, "softmax", name: "__adapt__"))).Message);

        var data = Blobs(60, 8);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Normalization(name: "adapt").Adapt(data), new Dense(3, "softmax", name: "optimizer"));
        model.Compile(new Sgd(0.1f, momentum: 0.5f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(data, new FitOptions { Epochs = 1, BatchSize = 20 });
        string path = PathOf("names.safetensors");
        model.Save(path);
        using var loaded = Sequential.Load(path, backend);
        Assert.Equal(model.Predict(data.Features), loaded.Predict(data.Features));
    }

    [Fact]
    public void OneEarlyStoppingObjectServesSeveralFits()
    {
        var data = Blobs(90, 9);
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(8, "tanh"), new Dense(3, "softmax"));
        model.Compile(new Sgd(0.05f), new SparseCategoricalCrossentropy(), backend);
        var stop = new EarlyStopping(patience: 50, restoreBestWeights: true);
        model.Fit(data, new FitOptions { Epochs = 3, EarlyStopping = stop });
        model.Fit(data, new FitOptions { Epochs = 1, EarlyStopping = stop });
        Assert.Equal(1, stop.BestEpoch); // the second Fit's own epochs, not the first's
        Assert.Equal(0, stop.RestoredEpoch);
        Assert.Equal(0, stop.StoppedEpoch);
    }

    [Fact]
    public void ACheckpointHoldsTheBestEpochAndSurvivesTheRun()
    {
        using var backend = new CpuBackend();
        var (model, train, validation) = Overfitting(backend);
        using var _ = model;
        string path = PathOf("best.safetensors");
        var checkpoint = new ModelCheckpoint(path, metadata: new Dictionary<string, string> { ["run"] = "test" });
        var h = model.Fit(train, new FitOptions { Epochs = 60, ValidationData = validation, Checkpoint = checkpoint });

        var valLosses = h.Epochs.Select(e => e.ValidationLoss!.Value).ToList();
        int best = valLosses.IndexOf(valLosses.Min()) + 1;
        Assert.True(best < h.Epochs.Count, $"the run should overfit before its end (best epoch {best})");
        Assert.Equal(best, checkpoint.SavedEpoch);
        using var saved = Sequential.Load(path, backend, out var meta);
        Assert.Equal("test", meta["run"]);
        Assert.Equal(valLosses[best - 1], saved.Evaluate(validation).Loss, 1e-5);
        Assert.Single(Directory.GetFiles(_folder)); // replaced in place, no temporary files left

        var every = new ModelCheckpoint(PathOf("last.safetensors"), saveBestOnly: false);
        model.Fit(train, new FitOptions { Epochs = 3, ValidationData = validation, Checkpoint = every });
        Assert.Equal(3, every.SavedEpoch);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => new ModelCheckpoint(PathOf("no/such/dir/m.safetensors"))).Message);
    }

    [Fact]
    public void TheCliCheckpointsTheBestEpoch()
    {
        string path = PathOf("cli-best.safetensors");
        var (code, output, error) = TestData.RunCli("train", "--device", "cpu", "--epochs", "3", "--checkpoint", path);
        Assert.True(code == 0, error);
        Assert.Contains($"Checkpoint: {path} holds epoch ", output);
        (code, var evaluated, error) = TestData.RunCli("evaluate", "--model", path, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("Test (mnist-10k/test): loss", evaluated);
    }
}
