using System.CommandLine;
using System.Globalization;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet imdb</c>: the lecture's overfitting experiment on the IMDB reviews. Each review becomes a multi-hot row
/// of <c>--num-words</c> columns; the same 16-16-1 network (ReLU, sigmoid output, RMSprop 0.001, binary
/// cross-entropy, batch 512, 20 epochs, 40% of the training reviews held out for validation, which is the lecture's
/// 10,000 of 25,000) is trained as it is, with an L2 penalty of 0.001 on every kernel, and with dropout 0.5 after
/// each hidden layer. The validation losses show where each starts to overfit; <c>--plot</c> draws them.
/// </summary>
internal static class ImdbCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new Option<string?>("--data") { Description = "Keras' imdb.npz (default: ~/.gpunet/datasets/imdb, then ~/.keras/datasets, else downloaded as Keras does)." };
        var numWords = new Option<int>("--num-words") { Description = "Vocabulary: the most frequent words kept, and the multi-hot width.", DefaultValueFactory = _ => 10_000 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per model.", DefaultValueFactory = _ => 20 };
        var batchSize = new Option<int>("--batch-size") { Description = "Samples per step.", DefaultValueFactory = _ => 512 };
        var plot = new Option<string?>("--plot") { Description = "Write the validation (and training) loss curves of the three models to this PNG file." };
        var seed = new Option<int>("--seed") { Description = "Seed of initialization, validation split, shuffling and dropout.", DefaultValueFactory = _ => 42 };
        var device = DeviceOption.Create();
        TrainOptions.Positive(numWords, "10000");
        TrainOptions.Positive(epochs, "20");
        TrainOptions.Positive(batchSize, "512");
        var command = new Command("imdb", "The lecture's IMDB overfitting experiment: 16-16-1 as it is, with L2 0.001, and with dropout 0.5.")
            { data, numWords, epochs, batchSize, plot, seed, device };
        command.SetAction(p => Program.Guard(error, () => Run(p.GetValue(data), p.GetValue(numWords), p.GetValue(epochs), p.GetValue(batchSize),
            p.GetValue(plot), p.GetValue(seed), DeviceOption.Parse(p.GetValue(device)!), output)));
        return command;
    }

    private sealed record Variant(string Name, Func<Layer[]> Layers);

    internal static int Run(string? dataPath, int numWords, int epochs, int batchSize, string? plotPath, int seed, DeviceChoice device, TextWriter output)
    {
        if (plotPath is not null) TrainOptions.CheckSavePath(plotPath, "--plot", "imdb.png");
        if (dataPath is not null && !File.Exists(dataPath))
            throw new FileNotFoundException($"--data '{dataPath}' does not exist. Give Keras' imdb.npz, or leave --data out to use the cached or downloaded copy.");
        var imdb = Datasets.Imdb(new ImdbOptions { NumWords = numWords, Log = output.WriteLine }, dataPath);
        var data = imdb.MultiHot();
        using var backend = GpuNet.Device.Create(device);
        output.WriteLine($"Device: {backend.Name}");
        output.WriteLine($"IMDB: {data.Train.Count:N0} training and {data.Test.Count:N0} test reviews as {numWords:N0}-column multi-hot rows; " +
                         $"{(int)Math.Round(data.Train.Count * 0.4):N0} training reviews held out for validation");
        var l2 = new Regularizer(0, 0.001f);
        Variant[] variants =
        [
            new("original", () => [new Dense(16, "relu"), new Dense(16, "relu"), new Dense(1, "sigmoid")]),
            new("L2 0.001", () => [new Dense(16, "relu", kernelRegularizer: l2), new Dense(16, "relu", kernelRegularizer: l2), new Dense(1, "sigmoid", kernelRegularizer: l2)]),
            new("dropout 0.5", () => [new Dense(16, "relu"), new Dropout(0.5f), new Dense(16, "relu"), new Dropout(0.5f), new Dense(1, "sigmoid")]),
        ];
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"16-16-1, RMSprop(0.001), binary cross-entropy, batch {batchSize}, {epochs} epochs:");
        output.WriteLine($"  {"model",-12} {"best val_loss",14} {"at epoch",9} {"last val_loss",14} {"last loss",10} {"test accuracy",14}");
        var histories = new List<(string Name, History History)>();
        foreach (var v in variants)
        {
            using var model = new Sequential(v.Layers());
            model.Compile(new RmsProp(0.001f), new BinaryCrossentropy(), backend, seed: (ulong)seed);
            var history = model.Fit(data.Train, new FitOptions { Epochs = epochs, BatchSize = batchSize, ValidationSplit = 0.4, Seed = seed, Verbose = Verbosity.Silent });
            var best = history.Epochs.MinBy(e => e.ValidationLoss!.Value)!;
            var test = model.Evaluate(data.Test);
            output.WriteLine(string.Create(c, $"  {v.Name,-12} {best.ValidationLoss,14:F4} {best.Epoch,9} {history.Epochs[^1].ValidationLoss,14:F4} {history.Epochs[^1].Loss,10:F4} {test.Accuracy,14:F4}"));
            histories.Add((v.Name, history));
        }
        if (plotPath is not null)
        {
            BenchReport.WriteAtomically(plotPath, Chart(histories, numWords));
            output.WriteLine($"Wrote the loss curves to {plotPath}");
        }
        return 0;
    }

    private static byte[] Chart(List<(string Name, History History)> histories, int numWords)
    {
        using var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int k = 0; k < histories.Count; k++)
        {
            var epochs = histories[k].History.Epochs;
            double[] xs = [.. epochs.Select(e => (double)e.Epoch)];
            var val = plot.Add.Scatter(xs, [.. epochs.Select(e => e.ValidationLoss!.Value)]);
            val.Color = palette.GetColor(k);
            val.LineWidth = 2;
            val.LegendText = $"{histories[k].Name}: validation";
            var train = plot.Add.Scatter(xs, [.. epochs.Select(e => e.Loss)]);
            train.Color = palette.GetColor(k);
            train.LinePattern = ScottPlot.LinePattern.Dashed;
            train.MarkerSize = 0;
            train.LegendText = $"{histories[k].Name}: training";
        }
        plot.Title($"IMDB, 16-16-1 on {numWords:N0}-word multi-hot rows: loss per epoch");
        plot.XLabel("epoch");
        plot.YLabel("binary cross-entropy (L2 model: with its penalty)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        return plot.GetImageBytes(800, 520, ScottPlot.ImageFormat.Png);
    }
}
