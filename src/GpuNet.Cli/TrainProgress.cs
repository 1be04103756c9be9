using GpuNet.Data;
using GpuNet.Models;
using Spectre.Console;

namespace GpuNet.Cli;

/// <summary>
/// Keras' default training display: a progress bar per epoch with the running loss and accuracy, the percentage and an
/// ETA (Spectre.Console), fed by <see cref="FitOptions.OnBatchEnd"/>; each finished epoch stays as its line with the
/// validation figures.
/// </summary>
internal static class TrainProgress
{
    /// <summary>
    /// True for --verbose auto or 1 when the output is this process's console and a terminal: a redirected output (a file,
    /// a pipe, a test's writer) gets one line per epoch instead, as Keras' verbose 2.
    /// </summary>
    public static bool ShowsBar(string verbose, TextWriter output) =>
        verbose is "auto" or "1" && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <see cref="Sequential.Fit"/> under a live progress display; the epoch lines replace <paramref name="options"/>' OnEpochEnd.</summary>
    public static History Fit(Sequential model, Dataset train, FitOptions options)
    {
        History? history = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask? task = null;
                history = model.Fit(train, options with
                {
                    OnBatchEnd = b =>
                    {
                        task ??= context.AddTask(Markup.Escape($"Epoch {b.Epoch}/{b.Epochs}"), maxValue: b.Batches);
                        task.Value = b.Batch;
                        task.Description = Markup.Escape($"Epoch {b.Epoch}/{b.Epochs} - loss: {b.Loss:F4}" + (double.IsNaN(b.Accuracy) ? "" : $" - accuracy: {b.Accuracy:F4}"));
                    },
                    OnEpochEnd = e =>
                    {
                        if (task is null) return;
                        task.Description = Markup.Escape(e.ToString()); // with the time and the validation figures
                        task.StopTask();
                        task = null;
                    },
                });
            });
        return history!;
    }
}
