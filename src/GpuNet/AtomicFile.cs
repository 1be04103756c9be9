using System.Diagnostics;
using System.Text.RegularExpressions;

namespace GpuNet;

/// <summary>
/// Files replaced whole or not at all: the content goes to a hidden temporary file in the destination's folder
/// (<c>.NAME.PID.GUID.tmp</c>), is flushed to disk, then renamed over the destination. A failed write removes its
/// temporary file; one left by a process that was killed mid-write is removed by the next write to (or
/// <see cref="RemoveStale"/> of) the same destination.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with what <paramref name="write"/> puts in the stream.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder may not be written; the message names <paramref name="path"/>, not the temporary file.</exception>
    /// <exception cref="IOException">The file cannot be written (a full disk, a read-only file system); an existing file is left as it was.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot save to '{path}': {MissingFolder(folder)}");
        RemoveStale(full);
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            // the user named the destination, never the hidden temporary file
            string reason = e.Message.Replace(temporary, full, StringComparison.Ordinal);
            if (e is UnauthorizedAccessException)
                throw new UnauthorizedAccessException(
                    $"Cannot save to '{path}': writing in the folder '{folder}' is not permitted ({reason}). Choose a folder you may write to, or change its permissions.", e);
            if (e is IOException and not DirectoryNotFoundException)
                throw new IOException($"Cannot save to '{path}' ({reason}); {(File.Exists(full) ? "the existing file is left as it was" : "nothing was written")}. " +
                                      "Check the free space and that the folder is writable, or choose another path.", e);
            throw;
        }
    }

    /// <summary>Why <paramref name="folder"/> cannot take a file, for a message: it does not exist, or it is a file.</summary>
    public static string MissingFolder(string folder) => File.Exists(folder)
        ? $"'{folder}' is a file, not a folder. Give a path inside a folder, or choose another name."
        : $"the folder '{folder}' does not exist. Create it first or choose another path.";

    /// <summary>
    /// Deletes the temporary files that writes to <paramref name="path"/> left behind when their process was killed
    /// (the process id in the name no longer runs). Files of running processes and anything else are kept.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    public static int RemoveStale(string path)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        string name = Path.GetFileName(full);
        if (!Directory.Exists(folder) || name.Length == 0) return 0;
        int removed = 0;
        try
        {
            foreach (var file in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
            {
                var m = TemporaryName().Match(Path.GetFileName(file)[(name.Length + 1)..]);
                if (!m.Success || !int.TryParse(m.Groups[1].ValueSpan, out int pid) || IsRunning(pid)) continue;
                try
                {
                    File.Delete(file);
                    removed++;
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a folder we cannot list: the write itself will say what is wrong
        }
        return removed;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true; // a write of ours may be under way on another thread
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\.(\d+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TemporaryName();
}
