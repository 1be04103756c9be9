using System.Diagnostics;
using GpuNet.Backends.Cpu;

namespace GpuNet.Bench;

/// <summary>
/// A seconds-long Stopwatch sweep (best of several timed batches, GFLOP/s) for tuning between full
/// BenchmarkDotNet runs; also prints the FMA peak. Usage: quick [kernel] [threads] [naive] [wide BATCH] [shape MxKxN NT ...].
/// </summary>
internal static class QuickGemm
{
    public static void Run(string[] args)
    {
        var kernel = args.Length > 0 ? Enum.Parse<CpuGemmKernel>(args[0], ignoreCase: true) : CpuGemmKernel.Auto;
        int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
        bool naive = args.Contains("naive");
        // "wide N": the wide model's step at batch N instead of the default shapes
        int wide = Array.IndexOf(args, "wide") is var w and >= 0 && w + 1 < args.Length ? int.Parse(args[w + 1]) : 0;

        PrintPeak();
        Console.WriteLine($"kernel {kernel}, {threads} thread(s)");
        // "shape MxKxN FORM" (FORM NN, NT, TN or TT), repeatable: only those
        var shapes = new List<GemmCase>();
        for (int i = 0; i + 2 < args.Length; i++)
            if (args[i] == "shape" && args[i + 1].Split('x') is [var m, var k, var n] && args[i + 2] is [var ta, var tb])
                shapes.Add(new GemmCase("shape", int.Parse(m), int.Parse(k), int.Parse(n), ta == 'T', tb == 'T'));
        double total = 0, totalFlops = 0;
        foreach (var shape in shapes.Count > 0 ? shapes : wide > 0 ? GemmCase.Wide(wide) : GemmCase.All)
        {
            var (a, b, c) = CpuGemmBenchmarks.Inputs(shape);
            double seconds = Best(() => CpuGemm.Gemm(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, 1f,
                a, 0, b, 0, 0f, c, 0, kernel, threads));
            total += seconds;
            totalFlops += shape.Flops;
            string line = $"  {shape.Role,-11} {shape,-19} {seconds * 1e6,10:F1} us  {shape.Flops / seconds / 1e9,7:F1} GFLOP/s";
            if (naive)
            {
                double naiveSeconds = Best(() => NaiveGemm.Gemm(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, 1f, a, b, 0f, c));
                line += $"   naive {shape.Flops / naiveSeconds / 1e9,6:F2} GFLOP/s ({naiveSeconds / seconds:F0}x slower)";
            }
            Console.WriteLine(line);
        }
        Console.WriteLine($"  all         {total * 1e3,29:F2} ms  {totalFlops / total / 1e9,7:F1} GFLOP/s");
    }

    /// <summary>The fastest of several batches, each long enough (~50 ms) to time with a Stopwatch.</summary>
    private static double Best(Action action)
    {
        action();
        var watch = Stopwatch.StartNew();
        int perBatch = 1;
        while (watch.Elapsed.TotalMilliseconds < 50) { action(); perBatch++; }
        double best = double.MaxValue;
        for (int batch = 0; batch < 7; batch++)
        {
            watch.Restart();
            for (int i = 0; i < perBatch; i++) action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds / perBatch);
        }
        return best;
    }

    private static void PrintPeak()
    {
        const int iterations = 1 << 22;
        double v512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported
            ? iterations * 12.0 * 16 * 2 / Best(() => FmaPeakBenchmarks.Loop512(iterations)) / 1e9 : double.NaN;
        double v256 = iterations * 12.0 * 8 * 2 / Best(() => FmaPeakBenchmarks.Loop256(iterations)) / 1e9;
        double latencyNs = Best(() => FmaPeakBenchmarks.LatencyChain(iterations)) / iterations * 1e9;
        Console.WriteLine($"FMA peak, one thread: Vector512 {v512:F1} GFLOP/s, Vector256 {v256:F1} GFLOP/s; " +
            $"dependent FMA {latencyNs:F3} ns (= 4 cycles at {4 / latencyNs:F2} GHz if the latency is 4)");
    }
}
