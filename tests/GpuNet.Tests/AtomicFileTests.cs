using System.Diagnostics;
using Xunit;

namespace GpuNet.Tests;

/// <summary>Atomic writes: no temporary file survives, stale ones of killed runs are cleaned, messages name the path given.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-atomic-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    /// <summary>The id of a process that has exited (ids are not reused at once).</summary>
    private static int DeadProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    [Fact]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemporary()
    {
        string path = PathOf("m.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([9, 9]);
            throw new InvalidOperationException("interrupted");
        }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_folder));
    }

    [Fact]
    public void TheNextRunRemovesWhatAKilledSaveLeftAndNothingElse()
    {
        string model = PathOf("m.safetensors");
        string stale = PathOf($".m.safetensors.{DeadProcessId()}.{Guid.NewGuid():N}.tmp");
        string live = PathOf($".m.safetensors.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"); // a save under way in this process
        string other = PathOf(".m.safetensors.notes.tmp"); // not ours
        foreach (var f in new[] { stale, live, other }) File.WriteAllBytes(f, [0]);

        // the CLI cleans up when it starts, before loading data: a run that then fails on a missing CSV still cleans
        var (code, _, _) = TestData.RunCli("train", "--device", "cpu", "--save", model, "--dataset", $"csv:{PathOf("missing.csv")}", "--target", "y");
        Assert.Equal(1, code);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public void AFolderThatCannotBeWrittenIsNamedNotTheHiddenTemporaryFile()
    {
        // /sys refuses new files even to root, where a read-only permission would not stop the test's writes
        Assert.SkipUnless(OperatingSystem.IsLinux() && Directory.Exists("/sys/kernel"), "needs Linux's /sys");
        var e = Assert.Throws<UnauthorizedAccessException>(() => AtomicFile.Write("/sys/kernel/model.safetensors", s => s.Write([1])));
        Assert.Contains("Cannot save to '/sys/kernel/model.safetensors'", e.Message);
        Assert.Contains("Choose a folder you may write to", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);

        var (code, _, error) = TestData.RunCli("bench", "--out", "/sys/kernel/gpunet-bench");
        Assert.Equal(1, code);
        Assert.DoesNotContain(".tmp", error);
    }

    [Fact]
    public void AFileGivenWhereAFolderIsExpectedIsCalledAFile()
    {
        string file = PathOf("train-images-idx3-ubyte");
        File.WriteAllBytes(file, [0]);
        var (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--data", file);
        Assert.Equal(1, code);
        Assert.Contains("is a file; a folder of IDX files is expected", error);
        Assert.DoesNotContain("does not exist", error);

        (code, _, error) = TestData.RunCli("bench", "--out", file);
        Assert.Equal(1, code);
        Assert.Contains("is a file; it expects a folder", error);

        (code, _, error) = TestData.RunCli("train", "--device", "cpu", "--save", Path.Combine(file, "m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains($"'{file}' is a file, not a folder", error);
        Assert.DoesNotContain("does not exist", error);
    }
}
