using System.CommandLine;
using System.CommandLine.Help;

namespace GpuNet.Cli;

/// <summary>The <c>gpunet</c> command.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Parses and runs a command line, writing to the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // named gpunet, the installed tool's command, rather than after the executable (GpuNet.Cli)
        var root = new Command("gpunet", "GpuNet: train neural networks on the GPU (ILGPU kernels) or the CPU from .NET.")
        {
            new HelpOption(),
            new VersionOption(),
            TrainCommand.Create(output, error),
            DevicesCommand.Create(output, error),
            EvaluateCommand.Create(output, error),
            PredictCommand.Create(output, error),
            ExportCommand.Create(output, error),
            SummaryCommand.Create(output, error),
            PlotModelCommand.Create(output, error),
            BenchCommand.Create(output, error),
            ActivationsCommand.Create(output, error),
            XorCommand.Create(output, error),
            ImdbCommand.Create(output, error),
        };
        var config = new InvocationConfiguration { Output = output, Error = error };
        return root.Parse(args).Invoke(config);
    }

    /// <summary>Runs a command body: a user's mistake becomes one clear line, never a stack trace.</summary>
    internal static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException or KeyNotFoundException
                                   or NotSupportedException or UnauthorizedAccessException or Models.TrainingDivergedException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message}");
            error.WriteLine("This is a bug in GpuNet; please report it with the command line you ran.");
            return 2;
        }
    }
}
