using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text;
using System.Text.Json;
using GpuNet.Backends;
using GpuNet.Bench;
using GpuNet.Data;
using GpuNet.TorchCompare;
using TorchSharp;

// GpuNet's CPU backend against libtorch (TorchSharp-cpu) in one process: the same models, data, SGD, threads
// and warm-up; the two alternate point by point and round by round. Run through bench/torch-compare.sh, which
// builds this project and makes TorchSharp's native wrapper loadable on Debian 12.
// usage: GpuNet.TorchCompare [--models lecture,wide] [--batch-sizes 1,4,...] [--rounds 5] [--min-time 0.5]
//                            [--warmup-time 0.2] [--threads 2] [--out folder] [--check: verify libtorch, time nothing]
var o = Options.Parse(args);
if (Environment.ProcessorCount != o.Threads)
{
    Console.Error.WriteLine($"GpuNet's CPU backend uses Environment.ProcessorCount = {Environment.ProcessorCount} threads, not --threads {o.Threads}: " +
        $"run with DOTNET_PROCESSOR_COUNT={o.Threads} (bench/torch-compare.sh sets it).");
    return 2;
}
torch.set_num_threads(o.Threads);
torch.set_num_interop_threads(1);
using var backend = new CpuBackend();
Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch threads {torch.get_num_threads()}; GpuNet {backend.Name}");
TorchCheck.MatMul();
TorchCheck.Step();
if (o.CheckOnly) return 0;

Directory.CreateDirectory(o.Out);
var peaks = new List<double> { FmaPeak.Measure(o.Threads) };
Console.WriteLine($"FMA peak ({o.Threads} threads, {FmaPeak.Width}): {peaks[0]:F1} GFLOP/s");
var bandwidths = new List<double> { Bandwidth.Measure(o.Threads) };
Console.WriteLine($"memory bandwidth ({o.Threads} threads, triad over 3 x 128 MB): {bandwidths[0]:F1} GB/s");

int maxBatch = o.BatchSizes.Max();
var data = Synthetic(Math.Max(4096, maxBatch), seed: 7);
using var x = torch.tensor(data.Features, [data.Count, MlpShape.Features]);
using var y = torch.tensor(data.Labels.Select(l => (long)l).ToArray(), [(long)data.Count]);

IContender Make(string who, MlpShape shape, int batch) => who == "gpunet"
    ? new GpuNetContender(backend, shape, data, batch, o.Seed)
    : new TorchContender(shape, x, y, batch, o.Seed);

// One untimed pass over everything first: .NET's tiered JIT and libtorch's first calls (oneDNN primitives,
// thread pool) would otherwise land in round 1.
Console.WriteLine("warm-up pass ...");
foreach (var shape in o.Models)
    foreach (int batch in o.BatchSizes)
        foreach (var who in new[] { "gpunet", "torch" })
        {
            using var c = Make(who, shape, batch);
            Sample.Run(c, batch, 1, o.WarmupTime, minSteps: 1, minTime: 0);
        }

var samples = new List<Sample>();
var clock = Stopwatch.StartNew();
for (int round = 0; round < o.Rounds; round++)
{
    int point = 0;
    foreach (var shape in o.Models)
        foreach (int batch in o.BatchSizes)
        {
            string[] order = (round + point++) % 2 == 0 ? ["gpunet", "torch"] : ["torch", "gpunet"];
            foreach (var who in order)
            {
                using var c = Make(who, shape, batch);
                var s = Sample.Run(c, batch, o.WarmupSteps, o.WarmupTime, o.MinSteps, o.MinTime) with { Contender = who, Model = shape.Name, Round = round };
                samples.Add(s);
                Console.WriteLine($"round {round + 1}/{o.Rounds}  {shape.Name,-7} batch {batch,5}  {who,-6} {s.SamplesPerSecond,12:N0} samples/s  ({s.Steps} steps, {s.Seconds:F2} s)");
            }
        }
    peaks.Add(FmaPeak.Measure(o.Threads));
    bandwidths.Add(Bandwidth.Measure(o.Threads));
    Console.WriteLine($"FMA peak after round {round + 1}: {peaks[^1]:F1} GFLOP/s, bandwidth {bandwidths[^1]:F1} GB/s ({clock.Elapsed.TotalMinutes:F1} min so far)");
}

double peak = peaks.Max();
var report = Report.Markdown(o, samples, peaks, peak, bandwidths);
File.WriteAllText(Path.Combine(o.Out, "torch-compare.md"), report);
File.WriteAllText(Path.Combine(o.Out, "torch-compare.json"), JsonSerializer.Serialize(new { o.Threads, peaks, bandwidths, samples }, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine();
Console.WriteLine(report);
Console.WriteLine($"written: {Path.Combine(o.Out, "torch-compare.md")} and torch-compare.json");
return 0;

static Dataset Synthetic(int rows, int seed)
{
    // the same generator as `gpunet bench`: pixels in [0, 1), uniform labels
    var random = new Random(seed);
    var features = new float[(long)rows * MlpShape.Features];
    for (long i = 0; i < features.LongLength; i++) features[i] = random.NextSingle();
    var labels = new int[rows];
    for (int i = 0; i < rows; i++) labels[i] = random.Next(MlpShape.Classes);
    return new Dataset("synthetic", features, labels, MlpShape.Features, MlpShape.Classes);
}

/// <summary>One timed run of one contender at one point.</summary>
internal sealed record Sample(int Batch, int Steps, double Seconds)
{
    public string Contender { get; init; } = "";
    public string Model { get; init; } = "";
    public int Round { get; init; }

    /// <summary>CPU time the whole process got during the timed steps: over Seconds x threads, the share of its
    /// threads' time it ran (other processes on the machine take the rest; spinning threads count as running).</summary>
    public double CpuSeconds { get; init; }
    public double SamplesPerSecond => Batch * (double)Steps / Seconds;

    /// <summary>
    /// At least <paramref name="warmupSteps"/> untimed steps and <paramref name="warmupTime"/> seconds of them,
    /// then timed steps until at least <paramref name="minSteps"/> and <paramref name="minTime"/> seconds.
    /// Every step runs to completion (both contenders are synchronous on the CPU).
    /// </summary>
    public static Sample Run(IContender c, int batch, int warmupSteps, double warmupTime, int minSteps, double minTime)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < warmupSteps || clock.Elapsed.TotalSeconds < warmupTime; i++) c.Step();
        int steps = 0;
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        clock.Restart();
        while (steps < minSteps || clock.Elapsed.TotalSeconds < minTime)
        {
            c.Step();
            steps++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return new Sample(batch, steps, seconds) { CpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds };
    }
}

/// <summary>The machine's FMA peak with the register-only loops of the BenchmarkDotNet suite (FmaPeakBenchmarks).</summary>
internal static class FmaPeak
{
    public static string Width => Avx512F.IsSupported ? "AVX-512" : "AVX2";

    /// <summary>GFLOP/s of <paramref name="threads"/> threads each running the loop: best of 5 runs of about 0.2 s.</summary>
    public static double Measure(int threads)
    {
        const int iterations = 1 << 22;
        double flopsPerThread = iterations * 12.0 * (Avx512F.IsSupported ? 16 : 8) * 2;
        Func<int, float> loop = Avx512F.IsSupported ? FmaPeakBenchmarks.Loop512 : FmaPeakBenchmarks.Loop256;
        loop(1000); // compiled before the clock
        double best = double.MaxValue;
        for (int run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => loop(iterations));
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return flopsPerThread * threads / best / 1e9;
    }
}

/// <summary>The machine's memory bandwidth: a STREAM-style triad a = b + s c over arrays far larger than the caches.</summary>
internal static class Bandwidth
{
    private const int Length = 32 << 20; // 32M floats, 128 MB per array: well past a 48 MB L3

    private static float[]? _a, _b, _c;

    /// <summary>GB/s of the triad on <paramref name="threads"/> threads, each on its own slice: best of 5, counting the
    /// 12 bytes per element STREAM counts (two reads, one write).</summary>
    public static double Measure(int threads)
    {
        _a ??= new float[Length];
        _b ??= Enumerable.Repeat(1f, Length).ToArray();
        _c ??= Enumerable.Repeat(2f, Length).ToArray();
        double best = double.MaxValue;
        for (int run = 0; run < 6; run++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int start = (int)((long)Length * t / threads), end = (int)((long)Length * (t + 1) / threads);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_c.AsSpan(start, end - start), 3f, _b.AsSpan(start, end - start), _a.AsSpan(start, end - start));
            });
            if (run > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds); // the first run touches the pages
        }
        return 12.0 * Length / best / 1e9;
    }
}

/// <summary>Checks that libtorch computes before anything is timed.</summary>
internal static class TorchCheck
{
    /// <summary>A 37x129 by 129x65 product against a double-precision loop (MKL's sgemm, oneDNN or a fallback: all must agree).</summary>
    public static void MatMul()
    {
        const int m = 37, k = 129, n = 65;
        var random = new Random(3);
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle() * 2 - 1;
        for (int i = 0; i < b.Length; i++) b[i] = random.NextSingle() * 2 - 1;
        using var ta = torch.tensor(a, [m, k]);
        using var tb = torch.tensor(b, [k, n]);
        using var tc = ta.matmul(tb);
        var c = tc.data<float>().ToArray();
        double worst = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++) { sum += (double)a[i * k + p] * b[p * n + j]; abs += Math.Abs((double)a[i * k + p] * b[p * n + j]); }
                // float32 accumulation of k products: error up to about k * 2^-24 * sum|a*b| in the worst order; 1e-5 is well inside
                double error = Math.Abs(c[i * n + j] - sum) / (1e-6 + abs);
                if (error > 1e-5)
                    throw new InvalidOperationException($"libtorch matmul wrong at ({i},{j}): {c[i * n + j]} against {sum:G9}");
                worst = Math.Max(worst, error);
            }
        Console.WriteLine($"libtorch matmul check: 37x129 @ 129x65 agrees with a double loop (worst relative error {worst:E1} of sum|a*b|)");
    }

    /// <summary>One SGD step on y = w x with a known gradient: the loss, backward and optimizer paths run.</summary>
    public static void Step()
    {
        // loss = (w·x - 1)^2 with w = [1, 2], x = [3, 4]: w·x = 11, dloss/dw = 2·(11 - 1)·x = [60, 80];
        // after SGD(lr = 0.01): w = [1 - 0.6, 2 - 0.8] = [0.4, 1.2]
        using var w = torch.nn.Parameter(torch.tensor(new float[] { 1, 2 }));
        using var x = torch.tensor(new float[] { 3, 4 });
        using var optimizer = torch.optim.SGD([w], 0.01);
        using var loss = (w.dot(x) - 1).pow(2);
        loss.backward();
        optimizer.step();
        var after = w.data<float>().ToArray();
        if (Math.Abs(after[0] - 0.4f) > 1e-6 || Math.Abs(after[1] - 1.2f) > 1e-6)
            throw new InvalidOperationException($"libtorch SGD step wrong: w = [{after[0]}, {after[1]}], expected [0.4, 1.2]");
        Console.WriteLine("libtorch SGD check: one step on (w·x - 1)^2 gives w = [0.4, 1.2] as worked out by hand");
    }
}

internal sealed record Options(MlpShape[] Models, int[] BatchSizes, int Rounds, double MinTime, int MinSteps,
    int WarmupSteps, double WarmupTime, int Threads, int Seed, string Out, bool CheckOnly = false)
{
    public static Options Parse(string[] args)
    {
        var o = new Options([MlpShape.Lecture, MlpShape.Wide], [1, 4, 16, 64, 256, 1024, 4096], 5, 0.5, 3, 3, 0.2, 2, 1,
            "bench-results/torch-compare");
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--models" => o with { Models = Next().Split(',').Select(MlpShape.Parse).ToArray() },
                "--batch-sizes" => o with { BatchSizes = Next().Split(',').Select(int.Parse).ToArray() },
                "--rounds" => o with { Rounds = int.Parse(Next()) },
                "--min-time" => o with { MinTime = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--warmup-time" => o with { WarmupTime = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--threads" => o with { Threads = int.Parse(Next()) },
                "--seed" => o with { Seed = int.Parse(Next()) },
                "--out" => o with { Out = Next() },
                "--check" => o with { CheckOnly = true },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'. Options: --check --models --batch-sizes --rounds --min-time --warmup-time --threads --seed --out."),
            };
        }
        if (o.Rounds < 1 || o.BatchSizes.Any(b => b < 1) || o.Threads < 1)
            throw new ArgumentException("--rounds, --batch-sizes and --threads must be positive.");
        return o;
    }
}

internal static class Report
{
    public static string Markdown(Options o, List<Sample> samples, List<double> peaks, double peak, List<double> bandwidths)
    {
        var md = new StringBuilder();
        double bandwidth = bandwidths.Max();
        md.AppendLine($"FMA peak ({o.Threads} threads, {FmaPeak.Width}, best of 5 x {peaks.Count} measurements): {peak:F1} GFLOP/s " +
            $"(measurements {peaks.Min():F1}-{peaks.Max():F1}). Memory bandwidth (triad, {o.Threads} threads, best of 5 x {bandwidths.Count}): {bandwidth:F1} GB/s " +
            $"(measurements {bandwidths.Min():F1}-{bandwidths.Max():F1}). Rounds: {o.Rounds}; per sample at least {o.WarmupSteps} warm-up steps and {o.WarmupTime} s, " +
            $"then at least {o.MinSteps} timed steps and {o.MinTime} s. MB/step: the traffic model of MlpShape.BytesPerStep; % of bandwidth: that traffic at the median rate over the measured bandwidth.");
        foreach (var shape in o.Models)
        {
            md.AppendLine();
            md.AppendLine($"{shape.Name} {shape.Description}, SGD 0.01, {o.Threads} threads; samples/s median (min-max over {o.Rounds} rounds); ratio = GpuNet / libtorch per round; CPU share = median process CPU time / (wall time x threads) while timed");
            md.AppendLine();
            md.AppendLine("| batch | MFLOP/step | MB/step | GpuNet samples/s | libtorch samples/s | GpuNet % of peak / of bandwidth | libtorch % of peak / of bandwidth | ratio median (min-max) | CPU share GpuNet / libtorch |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (int batch in o.BatchSizes)
            {
                var g = Of(samples, shape, batch, "gpunet");
                var t = Of(samples, shape, batch, "torch");
                var ratios = g.Zip(t, (a, b) => a.SamplesPerSecond / b.SamplesPerSecond).ToArray();
                double flops = shape.FlopsPerStep(batch);
                double Share(Sample[] runs) => Median(runs.Select(r => r.CpuSeconds / (r.Seconds * o.Threads)).ToArray());
                double bytes = shape.BytesPerStep(batch);
                double Percent(double sps) => sps / batch * flops / 1e9 / peak * 100;
                double OfBandwidth(double sps) => sps / batch * bytes / 1e9 / bandwidth * 100;
                var gs = g.Select(s => s.SamplesPerSecond).ToArray();
                var ts = t.Select(s => s.SamplesPerSecond).ToArray();
                md.AppendLine($"| {batch} | {flops / 1e6:F2} | {bytes / 1e6:F1} | {Median(gs):N0} ({gs.Min():N0}-{gs.Max():N0}) | {Median(ts):N0} ({ts.Min():N0}-{ts.Max():N0}) " +
                    $"| {Percent(Median(gs)):F1} / {OfBandwidth(Median(gs)):F0} | {Percent(Median(ts)):F1} / {OfBandwidth(Median(ts)):F0} | {Median(ratios):F2}x ({ratios.Min():F2}-{ratios.Max():F2}) | {Share(g):P0} / {Share(t):P0} |");
            }
        }
        return md.ToString();
    }

    private static Sample[] Of(List<Sample> samples, MlpShape shape, int batch, string who) =>
        samples.Where(s => s.Model == shape.Name && s.Batch == batch && s.Contender == who).OrderBy(s => s.Round).ToArray();

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
