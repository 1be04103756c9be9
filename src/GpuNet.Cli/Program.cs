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
        var root = Root(output, error);
        StrictNumbers(root);
        var config = new InvocationConfiguration { Output = output, Error = error };
        ParseResult parsed;
        try
        {
            parsed = root.Parse(args);
        }
        catch (InvalidOperationException e)
        {
            // a validator read a value that does not convert: System.CommandLine throws the conversion error rather than
            // report it (parsing runs no other code that throws this; the throwing method cannot be checked, as the JIT may inline it)
            var command = root.Subcommands.FirstOrDefault(c => c.Name == args.FirstOrDefault()) ?? root;
            error.WriteLine($"error: {Unparsable(e.Message, command) ?? e.Message}");
            error.WriteLine(SeeHelp(command));
            return 1;
        }
        if (parsed.Errors.Count == 0) return parsed.Invoke(config);
        // one line per mistake and where to look, not the whole help text
        foreach (var e in parsed.Errors)
            error.WriteLine($"error: {Unparsable(e.Message, parsed.CommandResult.Command) ?? string.Join(' ', e.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))}");
        error.WriteLine(SeeHelp(parsed.CommandResult.Command));
        return 1;
    }

    /// <summary>The message without .NET's " (Parameter 'x')" and "Actual value was" tails, which name code, not the user's input.</summary>
    internal static string Plain(Exception e) => e is ArgumentException
        ? System.Text.RegularExpressions.Regex.Replace(e.Message, @"( \(Parameter '[^']*'\))?(\r?\nActual value was .*)?$", "", System.Text.RegularExpressions.RegexOptions.Singleline)
        : e.Message;

    private static string SeeHelp(Command command) => $"See the options with: {(command.Name == "gpunet" ? "gpunet --help" : $"gpunet {command.Name} --help")}";

    /// <summary>The <c>gpunet</c> command with every subcommand, writing to the given streams.</summary>
    internal static Command Root(TextWriter output, TextWriter error)
    {
        // named gpunet, the installed tool's command, rather than after the executable (GpuNet.Cli)
        return new Command("gpunet", "GpuNet: train neural networks on the GPU (ILGPU kernels) or the CPU from .NET.")
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
    }

    /// <summary>
    /// Every real-valued option reads numbers the invariant way, without group separators: System.CommandLine's own
    /// parsing read "--lr 1,5" (a decimal comma) as 15.
    /// </summary>
    private static void StrictNumbers(Command command)
    {
        foreach (var option in command.Options)
            switch (option)
            {
                case Option<float> f: f.CustomParser = r => (float)(Real(r) ?? 0); break;
                case Option<float?> f: f.CustomParser = r => (float?)Real(r); break;
                case Option<double> d: d.CustomParser = r => Real(r) ?? 0; break;
                case Option<double?> d: d.CustomParser = r => Real(r); break;
            }
        foreach (var sub in command.Subcommands) StrictNumbers(sub);
    }

    private static double? Real(System.CommandLine.Parsing.ArgumentResult r)
    {
        string name = (r.Parent as System.CommandLine.Parsing.OptionResult)?.Option.Name ?? "the option";
        if (r.Tokens.Count == 0) return null;
        string text = r.Tokens[0].Value;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v)) return v;
        r.AddError(text.Contains(',', StringComparison.Ordinal)
            ? $"{name} '{text}' is not a number: write decimals with a dot, e.g. {name} {text.Replace(',', '.')}."
            : $"{name} '{text}' is not a number (with a dot for decimals, e.g. 0.01 or 1e-3).");
        return null;
    }

    /// <summary>
    /// System.CommandLine's "Cannot parse argument 'abc' for option '--epochs' as expected type 'System.Int32'." as a
    /// message that names the value, what was expected and an example; null for other messages.
    /// </summary>
    internal static string? Unparsable(string message, Command command)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'\.?$");
        if (!m.Success) return null;
        string value = m.Groups[1].Value, option = m.Groups[2].Value, type = m.Groups[3].Value;
        bool whole = type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal);
        bool number = whole || type.Contains("Single", StringComparison.Ordinal) || type.Contains("Double", StringComparison.Ordinal);
        string expected = whole ? "a whole number" : number ? "a number (with a dot for decimals, e.g. 0.01 or 1e-3)" : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false" : $"a {type}";
        var declared = command.Options.FirstOrDefault(o => o.Name == option);
        string example = declared is { HasDefaultValue: true } && declared.GetDefaultValue() is { } d
            ? $" The default is {option} {Convert.ToString(d, System.Globalization.CultureInfo.InvariantCulture)}."
            : whole ? $" For example {option} 10." : number ? $" For example {option} 0.5." : "";
        return $"{option} '{value}' is not {expected}.{example}";
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
            error.WriteLine($"error: {Plain(e)}");
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
