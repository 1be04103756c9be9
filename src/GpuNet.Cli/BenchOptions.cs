using System.CommandLine;
using System.Globalization;

namespace GpuNet.Cli;

/// <summary>A device <c>gpunet bench</c> can measure: its option name and the backend it creates.</summary>
internal sealed record BenchDevice(string Key, DeviceChoice Choice)
{
    public static readonly BenchDevice Cpu = new("cpu", DeviceChoice.Cpu);
    public static readonly BenchDevice Cuda = new("cuda", DeviceChoice.Cuda);
    public static readonly BenchDevice IlgpuCpu = new("ilgpu-cpu", DeviceChoice.IlgpuCpu);

    /// <summary>In table and chart order.</summary>
    public static readonly BenchDevice[] All = [Cpu, Cuda, IlgpuCpu];

    /// <summary>ILGPU's CPU accelerator simulates GPU threads: far too slow past small batches and widths.</summary>
    public const int IlgpuCpuMaxBatch = 64;

    /// <inheritdoc cref="IlgpuCpuMaxBatch"/>
    public const int IlgpuCpuMaxWidth = 64;
}

/// <summary>One model of a benchmark: 784 inputs, the hidden widths, 10 softmax outputs.</summary>
/// <param name="Name">lecture, wide, or width-N for a point of a --widths sweep.</param>
/// <param name="Hidden">Hidden layer widths (ReLU).</param>
/// <param name="Width">The sweep width, or null outside a --widths sweep.</param>
internal sealed record BenchModel(string Name, int[] Hidden, int? Width)
{
    public const int Features = 784;
    public const int Classes = 10;

    public static readonly BenchModel Lecture = new("lecture", [128, 64], null);
    public static readonly BenchModel Wide = new("wide", [2048, 2048], null);

    public static BenchModel Sweep(int width) => new($"width-{width}", [width, width], width);

    /// <summary>Every layer's width, input to output, e.g. 784-128-64-10.</summary>
    public int[] Layers => [Features, .. Hidden, Classes];

    public string Shape => string.Join('-', Layers);

    /// <summary>The widest hidden layer: what the ilgpu-cpu cap looks at.</summary>
    public int MaxWidth => Hidden.Max();
}

/// <summary>Everything <c>gpunet bench</c> was asked for, validated.</summary>
internal sealed record BenchSettings
{
    public const int DefaultMinSteps = 10;
    public const double DefaultMinSeconds = 3.0;
    public const int MaxBatch = 65536;
    public const int MaxWidth = 8192;

    /// <summary>Null: the CPU backend, and CUDA when present.</summary>
    public IReadOnlyList<BenchDevice>? Devices { get; init; }
    public string ModelName { get; init; } = "lecture";
    public IReadOnlyList<BenchModel> Models { get; init; } = [BenchModel.Lecture];
    public int[] BatchSizes { get; init; } = DefaultBatchSizes;
    /// <summary>Timed steps at least (exactly, when <see cref="MinSeconds"/> is 0).</summary>
    public int MinSteps { get; init; } = DefaultMinSteps;
    /// <summary>Timed seconds at least per point: more steps are run until both minimums are met.</summary>
    public double MinSeconds { get; init; } = DefaultMinSeconds;
    public int Warmup { get; init; } = 5;
    /// <summary>The adaptive warm-up's limit in seconds after the <see cref="Warmup"/> steps: steps run until the rate stops rising (the JIT's tiering), at most this long; 0 for none.</summary>
    public double WarmupSeconds { get; init; } = DefaultWarmupSeconds;
    public const double DefaultWarmupSeconds = 3;
    public bool WarmupTimeGiven { get; init; }
    /// <summary>Whether --steps and --warmup were given: if not, ilgpu-cpu takes fewer (<see cref="ForDevice"/>).</summary>
    public bool StepsGiven { get; init; }
    public bool WarmupGiven { get; init; }
    public int Seed { get; init; } = 42;
    public string OutDir { get; init; } = "bench-results";

    /// <summary>
    /// The settings for one device: ILGPU's CPU simulator takes seconds per step, so unless --steps or
    /// --warmup say otherwise it runs at most 3 timed steps (with the time minimum) and 1 warm-up step.
    /// </summary>
    public BenchSettings ForDevice(BenchDevice device) => device != BenchDevice.IlgpuCpu ? this : this with
    {
        MinSteps = StepsGiven ? MinSteps : Math.Min(MinSteps, 3),
        Warmup = WarmupGiven ? Warmup : Math.Min(Warmup, 1),
        WarmupSeconds = WarmupTimeGiven ? WarmupSeconds : 0,
    };

    /// <summary>1, 2, 4, ..., 8192.</summary>
    public static int[] DefaultBatchSizes => [.. Enumerable.Range(0, 14).Select(i => 1 << i)];
}

/// <summary>The options of <c>gpunet bench</c>, each checked with a message that names the value and what is expected.</summary>
internal sealed class BenchOptions
{
    private readonly Option<string?> _devices = new("--devices") { Description = "Comma-separated: cpu, cuda, ilgpu-cpu (default: cpu, and cuda when a GPU is present). ilgpu-cpu, ILGPU's slow CPU simulator, is measured only at batch <= 64 and width <= 64." };
    private readonly Option<string> _model = new("--model") { Description = "lecture (784-128-64-10) or wide (784-2048-2048-10).", DefaultValueFactory = _ => "lecture" };
    private readonly Option<string?> _batchSizes = new("--batch-sizes") { Description = "Comma-separated batch sizes (default 1,2,4,...,8192)." };
    private readonly Option<string?> _widths = new("--widths") { Description = "A width sweep in place of --model: two hidden layers of each width, e.g. 128,512,2048." };
    private readonly Option<int?> _steps = new("--steps") { Description = $"Timed steps per point. Default: adaptive, at least {BenchSettings.DefaultMinSteps} steps and at least --min-time seconds; given alone, exactly this many." };
    private readonly Option<double?> _minTime = new("--min-time") { Description = $"Timed seconds per point at least; more steps run until it is reached (default {BenchSettings.DefaultMinSeconds.ToString(CultureInfo.InvariantCulture)} without --steps, 0 with it)." };
    private readonly Option<int> _warmup = new("--warmup") { Description = "Untimed steps per point before the clock starts (kernel compilation, caches).", DefaultValueFactory = _ => 5 };
    private readonly Option<double?> _warmupTime = new("--warmup-time") { Description = $"After the --warmup steps, warm up until the step rate stops rising (.NET's JIT optimizes hot code over the first second or two), at most this many seconds; 0 for the fixed steps only. Default {BenchSettings.DefaultWarmupSeconds.ToString(CultureInfo.InvariantCulture)}; 0 when --warmup is given alone, and on ilgpu-cpu." };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of the synthetic data and of the weights.", DefaultValueFactory = _ => 42 };
    private readonly Option<string> _out = new("--out") { Description = "Folder for the PNG chart and the JSON figures.", DefaultValueFactory = _ => "bench-results" };

    public BenchOptions()
    {
        _model.AcceptOnlyFromAmong("lecture", "wide");
        _steps.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int v && v < 1) r.AddError($"--steps must be a positive integer; received {v}. For example --steps 50.");
        });
        _minTime.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is double v && !(v >= 0 && v <= 3600))
                r.AddError($"--min-time must be a number of seconds in [0, 3600]; received {v.ToString(CultureInfo.InvariantCulture)}. For example --min-time 2.");
        });
        _warmupTime.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is double v && !(v >= 0 && v <= 600))
                r.AddError($"--warmup-time must be a number of seconds in [0, 600]; received {v.ToString(CultureInfo.InvariantCulture)}. For example --warmup-time 3.");
        });
        _warmup.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 0) r.AddError($"--warmup must be an integer >= 0; received {v}. For example --warmup 5.");
        });
    }

    public IEnumerable<Option> All => [_devices, _model, _batchSizes, _widths, _steps, _minTime, _warmup, _warmupTime, _seed, _out];

    /// <summary>Reads and checks the parsed values; a bad value throws ArgumentException with a clear message.</summary>
    public BenchSettings Read(ParseResult p)
    {
        string? widthsText = p.GetValue(_widths);
        bool modelGiven = p.GetResult(_model) is { Implicit: false };
        if (widthsText is not null && modelGiven)
            throw new ArgumentException($"--widths {widthsText} sets the hidden layers itself (two of each width); drop --model {p.GetValue(_model)}.");
        int[]? widths = widthsText is null ? null : ParseList("--widths", widthsText, BenchSettings.MaxWidth, "128,512,2048");
        string modelName = widths is not null ? "widths" : p.GetValue(_model)!;
        int? steps = p.GetValue(_steps);
        string outDir = p.GetValue(_out)!;
        if (string.IsNullOrWhiteSpace(outDir))
            throw new ArgumentException("--out is empty. Give a folder for the results, e.g. --out ./bench-results.");
        return new BenchSettings
        {
            Devices = p.GetValue(_devices) is { } d ? ParseDevices(d) : null,
            ModelName = modelName,
            Models = widths is not null ? [.. widths.Select(BenchModel.Sweep)] : [modelName == "wide" ? BenchModel.Wide : BenchModel.Lecture],
            BatchSizes = p.GetValue(_batchSizes) is { } b ? ParseList("--batch-sizes", b, BenchSettings.MaxBatch, "64,256,1024") : BenchSettings.DefaultBatchSizes,
            MinSteps = steps ?? BenchSettings.DefaultMinSteps,
            // --steps alone means exactly that many steps; with --min-time, at least both
            MinSeconds = p.GetValue(_minTime) ?? (steps is null ? BenchSettings.DefaultMinSeconds : 0),
            Warmup = p.GetValue(_warmup),
            StepsGiven = steps is not null,
            WarmupGiven = p.GetResult(_warmup) is { Implicit: false },
            // --warmup alone means exactly that many steps, as --steps alone means exactly that many timed ones
            WarmupSeconds = p.GetValue(_warmupTime) ?? (p.GetResult(_warmup) is { Implicit: false } ? 0 : BenchSettings.DefaultWarmupSeconds),
            WarmupTimeGiven = p.GetValue(_warmupTime) is not null,
            Seed = p.GetValue(_seed),
            OutDir = outDir,
        };
    }

    /// <summary>Parses "cpu,cuda": known names, each once, in table order.</summary>
    internal static IReadOnlyList<BenchDevice> ParseDevices(string text)
    {
        var chosen = new HashSet<BenchDevice>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var device = BenchDevice.All.FirstOrDefault(d => d.Key == part.ToLowerInvariant())
                ?? throw new ArgumentException($"--devices '{text}': '{part}' is not a device. Expected a comma-separated list of cpu, cuda and ilgpu-cpu, e.g. --devices cpu,cuda.");
            chosen.Add(device);
        }
        if (chosen.Count == 0)
            throw new ArgumentException("--devices is empty. Give cpu, cuda or ilgpu-cpu, e.g. --devices cpu,cuda.");
        return [.. BenchDevice.All.Where(chosen.Contains)];
    }

    /// <summary>Parses "64,256,1024": positive integers up to <paramref name="max"/>, sorted, each once.</summary>
    internal static int[] ParseList(string option, string text, int max, string example)
    {
        var values = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
                throw new ArgumentException($"{option} '{text}': '{part}' is not a positive integer. Give a list like {option} {example}.");
            if (v > max)
                throw new ArgumentException($"{option} '{text}': {v} is more than the {max:N0} gpunet bench measures. Give values up to {max:N0}.");
            values.Add(v);
        }
        return [.. values];
    }
}
