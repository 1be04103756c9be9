using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;

// `gpunet bench` of two builds alternated inside one process, each build in its own AssemblyLoadContext, the
// order swapped every round: on a shared machine whose load swings, the two then see the same load, where
// separate processes (bench/before-after.sh) can differ by 3x between runs of one build. A round runs each
// build's Program.Run with the bench arguments; the table gives per batch the median (min..max) samples/s of
// each and the median (min..max) of the per-round ratios after/before.
// usage: dotnet run -c Release --project bench/GpuNet.InProcessAB -- BEFORE/GpuNet.Cli.dll AFTER/GpuNet.Cli.dll ROUNDS bench --devices cpu ...
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: GpuNet.InProcessAB BEFORE/GpuNet.Cli.dll AFTER/GpuNet.Cli.dll ROUNDS bench [bench options]");
    return 1;
}
int rounds = int.Parse(args[2]);
string[] benchArgs = args[3..];
var builds = new[] { ("before", args[0]), ("after", args[1]) }.Select(b =>
{
    var path = Path.GetFullPath(b.Item2);
    var run = new BuildContext(path).LoadFromAssemblyPath(path).GetType("GpuNet.Cli.Program")!.GetMethod("Run")!;
    return (Name: b.Item1, Run: run);
}).ToArray();
var rates = new Dictionary<(string Build, int Batch), List<double>>();
for (int r = 0; r < rounds; r++)
{
    foreach (var (name, run) in r % 2 == 0 ? builds : builds.Reverse())
    {
        var output = new StringWriter();
        run.Invoke(null, [benchArgs, output, TextWriter.Null]);
        foreach (Match m in Regex.Matches(output.ToString(), @"^\|\s+(\d+) \|\s+([\d,]+) \|", RegexOptions.Multiline))
        {
            int batch = int.Parse(m.Groups[1].Value);
            double rate = double.Parse(m.Groups[2].Value.Replace(",", ""));
            if (!rates.TryGetValue((name, batch), out var list)) rates[(name, batch)] = list = [];
            list.Add(rate);
            Console.WriteLine($"round {r + 1} {name} batch {batch}: {rate:N0} samples/s");
        }
    }
    Console.WriteLine($"round {r + 1}/{rounds} done (load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
}
Console.WriteLine("| batch | before samples/s | after samples/s | after / before per round |");
Console.WriteLine("| ---: | ---: | ---: | ---: |");
foreach (int batch in rates.Keys.Select(k => k.Batch).Distinct().Order())
{
    var before = rates[("before", batch)];
    var after = rates[("after", batch)];
    var ratios = before.Zip(after, (b, a) => a / b).ToList();
    Console.WriteLine($"| {batch} | {Span(before, "N0")} | {Span(after, "N0")} | {Span(ratios, "F3")} |");
}
return 0;

static string Span(List<double> values, string format)
{
    var sorted = values.Order().ToList();
    double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    return $"{median.ToString(format)} ({sorted[0].ToString(format)}..{sorted[^1].ToString(format)})";
}

/// <summary>One build's assemblies (and native libraries) resolved from its own folder.</summary>
sealed class BuildContext(string mainPath) : AssemblyLoadContext(mainPath)
{
    private readonly AssemblyDependencyResolver _resolver = new(mainPath);

    protected override Assembly? Load(AssemblyName name) =>
        _resolver.ResolveAssemblyToPath(name) is { } path ? LoadFromAssemblyPath(path) : null;

    protected override IntPtr LoadUnmanagedDll(string name) =>
        _resolver.ResolveUnmanagedDllToPath(name) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
}
