using System.CommandLine;
using System.Diagnostics;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet train</c>: with no options, the lecture's MNIST model (784-128-64-10, ReLU, softmax,
/// SGD 0.01, batch 64, 30 epochs, 20% validation) on the shipped MNIST-10k, on the best device.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var device = new Option<string>("--device") { Description = "auto (CUDA if present, else CPU), cuda, cpu or ilgpu-cpu.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cuda", "cpu", "ilgpu-cpu");
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training data.", DefaultValueFactory = _ => 30 };
        var batchSize = new Option<int>("--batch-size") { Description = "Samples per gradient step.", DefaultValueFactory = _ => 64 };
        var lr = new Option<float>("--lr") { Description = "SGD learning rate.", DefaultValueFactory = _ => 0.01f };
        var seed = new Option<int>("--seed") { Description = "Seed of weight initialization, validation split and shuffling.", DefaultValueFactory = _ => 42 };
        var validationSplit = new Option<double>("--validation-split") { Description = "Fraction of the training data held out for validation.", DefaultValueFactory = _ => 0.2 };
        var data = new Option<string?>("--data") { Description = "A folder of IDX files (train-*/t10k-* sets, or one images/labels pair to split 80/20). Default: the shipped MNIST-10k." };
        Positive(epochs, "--epochs", "30");
        Positive(batchSize, "--batch-size", "64");
        lr.Validators.Add(r =>
        {
            float v = r.GetValueOrDefault<float>();
            if (!float.IsFinite(v) || v <= 0) r.AddError($"--lr must be a positive number; received {v}. The lecture uses 0.01.");
        });
        validationSplit.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v >= 0 && v < 1)) r.AddError($"--validation-split must be in [0, 1); received {v}. Use 0.2 to hold out 20%.");
        });

        var command = new Command("train", "Train the lecture's MNIST model (784-128-64-10) and report test accuracy.")
        {
            device, epochs, batchSize, lr, seed, validationSplit, data,
        };
        command.SetAction(parse => Program.Guard(error, () => Run(new TrainSettings(
            ParseDevice(parse.GetValue(device)!), parse.GetValue(epochs), parse.GetValue(batchSize), parse.GetValue(lr),
            parse.GetValue(seed), parse.GetValue(validationSplit), parse.GetValue(data)), output)));
        return command;
    }

    private static void Positive(Option<int> option, string name, string example) =>
        option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 1) r.AddError($"{name} must be a positive integer; received {v}. For example {name} {example}.");
        });

    internal static DeviceChoice ParseDevice(string text) => text switch
    {
        "cuda" => DeviceChoice.Cuda,
        "cpu" => DeviceChoice.Cpu,
        "ilgpu-cpu" => DeviceChoice.IlgpuCpu,
        _ => DeviceChoice.Auto,
    };

    internal sealed record TrainSettings(DeviceChoice Device, int Epochs, int BatchSize, float LearningRate, int Seed,
        double ValidationSplit, string? DataFolder);

    /// <summary>Trains and evaluates; returns the exit code.</summary>
    internal static int Run(TrainSettings s, TextWriter output)
    {
        var sets = s.DataFolder is null ? Datasets.Mnist10k() : Datasets.FromIdxFolder(s.DataFolder);
        using var backend = GpuNet.Device.Create(s.Device);
        output.WriteLine($"Device: {backend.Name}");

        using var model = new Sequential(
            new Dense(128, "relu", name: "dense"),
            new Dense(64, "relu", name: "dense_1"),
            new Dense(Math.Max(10, sets.Train.ClassCount), "softmax", name: "dense_2"));
        model.Compile(new Sgd(s.LearningRate), new SparseCategoricalCrossentropy(), backend, seed: (ulong)s.Seed);

        int validation = (int)Math.Round(sets.Train.Count * s.ValidationSplit);
        output.WriteLine($"Data: {sets.Train.Name} {sets.Train.Count - validation:N0} train / {validation:N0} validation, " +
                         $"{sets.Test.Name} {sets.Test.Count:N0} test; {sets.Train.FeatureCount} features, {sets.Train.ClassCount} classes");
        output.WriteLine(model.Summary(sets.Train.FeatureCount));
        output.WriteLine($"Optimizer: SGD(learning_rate={s.LearningRate}), loss: sparse_categorical_crossentropy, batch_size={s.BatchSize}, epochs={s.Epochs}");

        var total = Stopwatch.StartNew();
        var history = model.Fit(sets.Train, new FitOptions
        {
            Epochs = s.Epochs,
            BatchSize = s.BatchSize,
            ValidationSplit = s.ValidationSplit,
            Seed = s.Seed,
            OnEpochEnd = e => output.WriteLine(e),
        });
        total.Stop();
        var test = model.Evaluate(sets.Test);
        var epochsRun = history.Epochs;
        double meanEpoch = epochsRun.Count > 1 ? epochsRun.Skip(1).Average(e => e.Elapsed.TotalSeconds) : epochsRun[0].Elapsed.TotalSeconds;
        output.WriteLine($"Training time: {total.Elapsed.TotalSeconds:F1}s ({meanEpoch:F3}s per epoch after the first, " +
                         $"{epochsRun[^1].SamplesPerSecond:N0} samples/s in the last)");
        output.WriteLine($"Test: loss {test.Loss:F4} - accuracy {test.Accuracy:F4} ({test.Samples:N0} samples)");
        return 0;
    }
}
