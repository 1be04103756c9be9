using System.CommandLine;
using System.Globalization;
using GpuNet.Backends;
using System.Runtime.CompilerServices;
using Spectre.Console;

[assembly: InternalsVisibleTo("GpuNet.Tests")]

namespace GpuNet.Cli;

/// <summary>
/// <c>gpunet bench</c>: training throughput (samples/s) of the lecture's model on the CPU backend and on
/// CUDA, over batch sizes 1 to 8192 (and optionally hidden widths), to show from which batch size and
/// width the GPU pays. Prints a table, writes a log-log PNG chart and the raw figures as JSON.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var o = new BenchOptions();
        var command = new Command("bench", "Measure training throughput (samples/s) on the CPU backend and CUDA over batch sizes and widths: where the GPU pays.");
        foreach (var option in o.All) command.Options.Add(option);
        command.SetAction(parse => Program.Guard(error, () => Run(o.Read(parse), output, error)));
        return command;
    }

    /// <summary>Measures every point, prints the table and writes the chart and JSON; returns the exit code.</summary>
    internal static int Run(BenchSettings s, TextWriter output, TextWriter error)
    {
        // Everything a user can get wrong fails here, before minutes of measuring.
        var devices = ResolveDevices(s.Devices);
        string outDir = PrepareOutputFolder(s.OutDir);
        var plan = new List<(BenchDevice Device, BenchModel Model, int Batch)>();
        var notes = new List<string>();
        foreach (var device in devices)
        {
            int skipped = 0;
            foreach (var model in s.Models)
                foreach (int batch in s.BatchSizes)
                {
                    if (BenchRunner.Skips(device, model, batch)) skipped++;
                    else plan.Add((device, model, batch));
                }
            if (skipped > 0)
                notes.Add($"{device.Key}: ILGPU's CPU simulator takes seconds per step, so it is measured only at batch <= {BenchDevice.IlgpuCpuMaxBatch} " +
                          $"and hidden width <= {BenchDevice.IlgpuCpuMaxWidth}; {skipped} of {s.Models.Count * s.BatchSizes.Length} point(s) skipped.");
            var own = s.ForDevice(device);
            if (!ReferenceEquals(own, s) && skipped < s.Models.Count * s.BatchSizes.Length)
                notes.Add($"{device.Key}: {own.MinSteps} timed steps at least and {own.Warmup} warm-up per point (give --steps and --warmup to change).");
        }
        if (plan.Count == 0)
            throw new ArgumentException($"Nothing to measure: {string.Join(" ", notes)} Add --batch-sizes 1,8,64 --widths 32,64, or another device.");

        var console = CreateConsole(output, out bool terminal);
        // Plain lines go straight to a file or StringWriter (no wrapping); on a terminal, through Spectre,
        // which keeps them above the live progress bar.
        Action<string> say = terminal ? console.WriteLine : output.WriteLine;
        var data = BenchRunner.SyntheticData(s.BatchSizes.Max(), s.Seed);
        string steps = s.MinSeconds > 0
            ? $"at least {s.MinSteps} timed steps and {s.MinSeconds.ToString(CultureInfo.InvariantCulture)} s per point"
            : $"{s.MinSteps} timed steps per point";
        string models = s.ModelName == "widths"
            ? $"width sweep 784-W-W-10 for W = {string.Join(", ", s.Models.Select(m => m.Width))}"
            : $"{s.ModelName} model {s.Models[0].Shape}";
        say($"Benchmark: {models} (ReLU, softmax, SGD 0.01), synthetic data {data.Count:N0} x {data.FeatureCount}, " +
            $"{data.ClassCount} classes; {steps}, {s.Warmup} warm-up");
        foreach (var note in notes) say($"note: {note}");

        var points = new List<BenchPoint>();
        var ran = new List<BenchDeviceInfo>();
        var failed = new List<string>();
        void MeasureAll(Action<string> starting, Action done)
        {
            foreach (var group in plan.GroupBy(p => p.Device))
            {
                using IBackend backend = GpuNet.Device.Create(group.Key.Choice);
                say($"{group.Key.Key} = {backend.Name}");
                int before = points.Count;
                try
                {
                    foreach (var (device, model, batch) in group)
                    {
                        starting($"{device.Key}, {model.Name}, batch {batch}");
                        var point = BenchRunner.Measure(backend, device, model, data, batch, s.ForDevice(device));
                        points.Add(point);
                        say($"  {device.Key,-9} {model.Name,-11} batch {batch,5}: {BenchReport.Rate(point.SamplesPerSecond),12} samples/s " +
                            $"({point.Steps:N0} steps in {point.Seconds:F2} s, {point.BytesPerStep:N0} bytes allocated per step)");
                        done();
                    }
                }
                catch (NotSupportedException e)
                {
                    // A backend that lacks a kernel the model needs: keep the other devices' figures.
                    string message = $"{group.Key.Key} cannot train this model: {e.Message} Its points are left out.";
                    error.WriteLine($"error: {message}");
                    failed.Add(message);
                }
                if (points.Count > before) ran.Add(new BenchDeviceInfo(group.Key.Key, backend.Name));
            }
        }
        if (terminal)
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask("measuring", maxValue: plan.Count);
                MeasureAll(what => task.Description = Markup.Escape(what), () => task.Increment(1));
            });
        else
            MeasureAll(_ => { }, () => { });
        if (points.Count == 0) return 1;
        notes.AddRange(failed);

        var results = new BenchResults("gpunet bench", DateTimeOffset.UtcNow, s.ModelName, $"synthetic {data.Count} x {data.FeatureCount}, {data.ClassCount} classes",
            "SGD(lr=0.01)", s.Warmup, s.MinSteps, s.MinSeconds, s.Seed, BenchMachine.Current(), ran, points, notes);
        say("");
        WriteTable(console, output, BenchReport.Table(results, terminal), terminal);
        foreach (var verdict in BenchReport.Verdicts(results)) say(verdict);

        string stem = Path.Combine(outDir, $"bench-{s.ModelName}-{results.Date:yyyyMMdd-HHmmss}");
        // The figures first: they are safe to write even where the chart's native library fails.
        BenchReport.WriteAtomically(stem + ".json", System.Text.Encoding.UTF8.GetBytes(BenchReport.ToJson(results)));
        say($"Figures: {stem}.json");
        byte[] png;
        try
        {
            png = BenchReport.ChartPng(results);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            error.WriteLine($"error: the chart could not be drawn: SkiaSharp's native library did not load ({e.GetBaseException().Message}). " +
                            $"The figures are in {stem}.json.");
            return 1;
        }
        BenchReport.WriteAtomically(stem + ".png", png);
        say($"Chart: {stem}.png");
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>The devices asked for, or the CPU backend and CUDA when present; CUDA asked for and absent is an error.</summary>
    private static IReadOnlyList<BenchDevice> ResolveDevices(IReadOnlyList<BenchDevice>? asked)
    {
        bool cuda = Kernels.IlgpuBackend.IsCudaAvailable();
        if (asked is null) return cuda ? [BenchDevice.Cpu, BenchDevice.Cuda] : [BenchDevice.Cpu];
        if (asked.Contains(BenchDevice.Cuda) && !cuda)
            throw new ArgumentException("--devices cuda: no CUDA device was found. Leave cuda out (e.g. --devices cpu), or check the NVIDIA driver with nvidia-smi.");
        return asked;
    }

    /// <summary>Creates the folder and proves a file can be written there, so a long run cannot fail at its end.</summary>
    private static string PrepareOutputFolder(string folder)
    {
        string full = Path.GetFullPath(folder);
        if (File.Exists(full))
            throw new ArgumentException($"--out '{folder}' is a file; it expects a folder for the chart and the figures. Give a folder, e.g. --out ./bench-results.");
        string probe = Path.Combine(full, $".gpunet-bench-{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(full);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // name the folder given, not the hidden probe file
            throw new ArgumentException($"--out '{folder}': cannot write there ({e.Message.Replace(probe, full, StringComparison.Ordinal).TrimEnd('.')}). " +
                                        "Give a folder you can write to, e.g. --out ./bench-results.", e);
        }
    }

    /// <summary>A markdown table with no trailing blanks (Spectre pads its empty top and bottom borders) off a terminal.</summary>
    private static void WriteTable(IAnsiConsole console, TextWriter output, Table table, bool terminal)
    {
        if (terminal)
        {
            console.Write(table);
            return;
        }
        var text = new StringWriter();
        var plain = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(text),
        });
        plain.Profile.Width = 400;
        plain.Write(table);
        foreach (var line in text.ToString().Split('\n'))
            if (line.TrimEnd() is { Length: > 0 } kept) output.WriteLine(kept);
    }

    /// <summary>
    /// A Spectre console on <paramref name="output"/>: colours, live progress and a rounded table on a
    /// terminal; plain text and a markdown table when redirected to a file or a StringWriter.
    /// </summary>
    private static IAnsiConsole CreateConsole(TextWriter output, out bool terminal)
    {
        terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        terminal = terminal && console.Profile.Capabilities.Interactive;
        return console;
    }
}
