using Spectre.Console;

namespace GpuNet.Models;

/// <summary>What <see cref="Sequential.Fit"/> prints while it trains (Keras' <c>verbose</c> argument of <c>fit</c>).</summary>
public enum Verbosity
{
    /// <summary>
    /// Keras' "auto": a progress bar when the output is this process's console and a terminal; nothing when the output
    /// is redirected (a file, a pipe, a test runner, a service), so logs and tests stay quiet.
    /// </summary>
    Auto = -1,

    /// <summary>Nothing (Keras' verbose=0).</summary>
    Silent = 0,

    /// <summary>
    /// A progress bar per epoch with the running loss and accuracy, the percentage and an ETA, each finished epoch left as
    /// its line with the validation figures (Keras' verbose=1). Off a terminal, where a bar cannot redraw, one line per epoch.
    /// </summary>
    ProgressBar = 1,

    /// <summary>One line per epoch: "Epoch 3/30 - 0.41s - loss: 0.3120 - accuracy: 0.9102 - val_loss: ..." (Keras' verbose=2).</summary>
    EpochLines = 2,
}

/// <summary>Fit's default display: the <see cref="Verbosity"/> resolved for the output, and the Spectre.Console progress bar.</summary>
internal static class FitProgress
{
    /// <summary>How often the bar reads the running loss from the device: each read is a host synchronization.</summary>
    internal static readonly TimeSpan BarInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Whether <paramref name="output"/> is this process's console on an interactive terminal (a bar can redraw there).</summary>
    public static bool IsInteractiveConsole(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary><paramref name="verbose"/> for <paramref name="output"/>: never Auto, and a bar only where one can be drawn.</summary>
    public static Verbosity Resolve(Verbosity verbose, TextWriter output) => verbose switch
    {
        Verbosity.Auto => IsInteractiveConsole(output) ? Verbosity.ProgressBar : Verbosity.Silent,
        Verbosity.ProgressBar => IsInteractiveConsole(output) ? Verbosity.ProgressBar : Verbosity.EpochLines,
        Verbosity.Silent or Verbosity.EpochLines => verbose,
        _ => throw new ArgumentOutOfRangeException(nameof(verbose), verbose,
            $"Unknown verbosity {(int)verbose}; use Verbosity.Auto, Silent (0), ProgressBar (1) or EpochLines (2), as Keras' verbose."),
    };

    /// <summary>
    /// Runs <paramref name="fit"/> with <paramref name="options"/> under the display <paramref name="verbose"/> asks for;
    /// the user's own OnEpochEnd and OnBatchEnd still run, after the display's.
    /// </summary>
    public static History Run(Verbosity verbose, TextWriter output, FitOptions options, Func<FitOptions, History> fit)
    {
        var userEpoch = options.OnEpochEnd;
        switch (verbose)
        {
            case Verbosity.Silent:
                return fit(options);
            case Verbosity.EpochLines:
                return fit(options with { OnEpochEnd = e => { output.WriteLine(e); userEpoch?.Invoke(e); } });
        }
        // The bar: one task per epoch, described by the running figures, read at most every BarInterval (and after the
        // epoch's last batch) unless the user asked for every batch.
        History? history = null;
        var userBatch = options.OnBatchEnd;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask? task = null;
                history = fit(options with
                {
                    BatchEndInterval = userBatch is null ? BarInterval : TimeSpan.Zero,
                    OnBatchEnd = b =>
                    {
                        task ??= context.AddTask(Markup.Escape($"Epoch {b.Epoch}/{b.Epochs}"), maxValue: b.Batches);
                        task.Value = b.Batch;
                        task.Description = Markup.Escape($"Epoch {b.Epoch}/{b.Epochs} - loss: {b.Loss:F4}" + (double.IsNaN(b.Accuracy) ? "" : $" - accuracy: {b.Accuracy:F4}"));
                        userBatch?.Invoke(b);
                    },
                    OnEpochEnd = e =>
                    {
                        if (task is not null)
                        {
                            task.Value = task.MaxValue;
                            task.Description = Markup.Escape(e.ToString()); // with the time and the validation figures
                            task.StopTask();
                            task = null;
                        }
                        userEpoch?.Invoke(e);
                    },
                });
            });
        return history!;
    }
}
