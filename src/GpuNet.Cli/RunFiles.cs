namespace GpuNet.Cli;

/// <summary>
/// The files a command reads and the files it writes: no output may replace an input (a <c>--save</c> that names the
/// training CSV would destroy it) and no two outputs may name one file. Paths are compared in full, with links
/// resolved, before anything is read or written.
/// </summary>
internal static class RunFiles
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> when an output names one of the <paramref name="inputs"/> or another output.
    /// </summary>
    /// <param name="outputs">(option, path) of each file the command will write; null paths are options not given.</param>
    /// <param name="inputs">(what, path) of each file the command reads, e.g. ("--dataset", "titanic.csv").</param>
    public static void CheckOutputs(IEnumerable<(string Option, string? Path)> outputs, IEnumerable<(string What, string Path)> inputs)
    {
        var given = outputs.Where(o => o.Path is not null).Select(o => (o.Option, Path: o.Path!)).ToList();
        var read = inputs.Select(i => (i.What, i.Path, Full: Resolve(i.Path))).ToList();
        for (int i = 0; i < given.Count; i++)
        {
            string full = Resolve(given[i].Path);
            foreach (var input in read)
                if (Same(full, input.Full))
                    throw new ArgumentException(
                        $"{given[i].Option} '{given[i].Path}' is {input.What} '{input.Path}', which this run reads: writing there would destroy it. " +
                        $"Give {given[i].Option} another file name.");
            for (int j = 0; j < i; j++)
                if (Same(full, Resolve(given[j].Path)))
                    throw new ArgumentException($"{given[j].Option} and {given[i].Option} name the same file '{given[i].Path}'; give each its own file.");
        }
    }

    /// <summary>The files of an IDX folder that <see cref="Data.Datasets.FromIdxFolder"/> may read (names containing "idx").</summary>
    public static IEnumerable<(string What, string Path)> IdxFolder(string? folder) =>
        folder is null || !Directory.Exists(folder) ? []
            : Directory.GetFiles(folder).Where(f => Path.GetFileName(f).Contains("idx", StringComparison.OrdinalIgnoreCase)).Select(f => ("a file of the --data folder", f));

    /// <summary>The full path, through symbolic links to the final target when the file exists.</summary>
    private static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target) return Path.GetFullPath(target.FullName);
        }
        catch (IOException)
        {
            // a broken or looping link: compare the path as given
        }
        return full;
    }

    private static bool Same(string a, string b) =>
        string.Equals(a, b, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
}
