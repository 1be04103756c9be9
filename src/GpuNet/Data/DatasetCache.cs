using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;

namespace GpuNet.Data;

/// <summary>One known-good version of a dataset file: its length, SHA-256 and where that version comes from.</summary>
/// <param name="Length">Size in bytes.</param>
/// <param name="Sha256">SHA-256 of the file's bytes, lower-case hex.</param>
/// <param name="Origin">Where this version is published, for messages ("as published", "Debian's package").</param>
public sealed record DatasetFileVersion(long Length, string Sha256, string Origin);

/// <summary>What a gzip file holds once decompressed: its length and SHA-256.</summary>
/// <param name="Length">Size of the decompressed bytes.</param>
/// <param name="Sha256">SHA-256 of the decompressed bytes, lower-case hex.</param>
public sealed record DatasetContent(long Length, string Sha256);

/// <summary>A file of a dataset and the versions of it that are accepted.</summary>
/// <remarks>
/// One file can have several good versions with the same content: Debian's packages rewrite gzip headers
/// (no file name, a fixed time stamp), which changes the .gz bytes but not the data inside. Where
/// <paramref name="Content"/> is given, any gzip file whose decompressed bytes match it is accepted too (a user's
/// own <c>gzip</c> of the raw files), checked only after the listed versions fail to match.
/// </remarks>
/// <param name="Name">The file name, e.g. <c>train-images-idx3-ubyte.gz</c>.</param>
/// <param name="Versions">The accepted files, byte for byte.</param>
/// <param name="Content">The decompressed bytes every version holds, or null to accept only <paramref name="Versions"/>.</param>
public sealed record DatasetFile(string Name, IReadOnlyList<DatasetFileVersion> Versions, DatasetContent? Content = null)
{
    /// <summary>The largest accepted length: a download that grows past it is cut off.</summary>
    public long MaxLength => Versions.Max(v => v.Length);

    /// <summary>Whether <paramref name="sha256"/> (hex, any case) is one of the accepted versions.</summary>
    public bool Accepts(string sha256) => Versions.Any(v => string.Equals(v.Sha256, sha256, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Whether the file at <paramref name="path"/>, whose SHA-256 is <paramref name="sha256"/>, is an accepted version
    /// or a gzip file of the accepted <see cref="Content"/>.
    /// </summary>
    public bool AcceptsFile(string path, string sha256)
    {
        if (Accepts(sha256)) return true;
        if (Content is null) return false;
        try
        {
            using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long length = 0;
            int n;
            while ((n = gz.Read(buffer)) > 0)
            {
                length += n;
                if (length > Content.Length) return false;
                hash.AppendData(buffer, 0, n);
            }
            return length == Content.Length && string.Equals(Convert.ToHexStringLower(hash.GetHashAndReset()), Content.Sha256, StringComparison.OrdinalIgnoreCase);
        }
        catch (InvalidDataException) { return false; } // not gzip, or a damaged stream
    }

    internal string Expected() => string.Join(" or ",
        Versions.Select(v => $"{v.Sha256} ({v.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes, {v.Origin})")) +
        (Content is null ? "" : $", or any gzip file of the {Content.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes with SHA-256 {Content.Sha256}");
}

/// <summary>A dataset could not be found locally nor downloaded; the message says how to get it.</summary>
public sealed class DatasetUnavailableException : IOException
{
    public DatasetUnavailableException(string message, string cacheDirectory, IReadOnlyList<string> missingFiles, Exception? inner = null)
        : base(message, inner)
    {
        CacheDirectory = cacheDirectory;
        MissingFiles = missingFiles;
    }

    /// <summary>The folder where the missing files belong.</summary>
    public string CacheDirectory { get; }

    /// <summary>The file names that were neither found nor downloaded.</summary>
    public IReadOnlyList<string> MissingFiles { get; }
}

/// <summary>
/// Where downloaded datasets live, and how files get there: each download goes to a temporary file in
/// the same folder, is checked against its SHA-256, and only then renamed into place.
/// </summary>
/// <remarks>
/// The cache root is <c>$GPUNET_DATASETS</c> when that variable is set, else <c>~/.gpunet/datasets</c>;
/// dataset "fashion-mnist" lives in <c>&lt;root&gt;/fashion-mnist</c> (as Keras uses <c>~/.keras/datasets</c>).
/// </remarks>
public static class DatasetCache
{
    /// <summary>The environment variable whose value replaces <c>~/.gpunet/datasets</c>.</summary>
    public const string EnvironmentVariable = "GPUNET_DATASETS";

    /// <summary>The cache root, read from the environment on every call.</summary>
    public static string Root
    {
        get
        {
            string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".gpunet", "datasets");
        }
    }

    /// <summary>The folder of one dataset: <c>Root/dataset</c>.</summary>
    public static string DirectoryFor(string dataset) => Path.Combine(Root, dataset);

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Checks a local file against the accepted versions of <paramref name="file"/>.</summary>
    /// <param name="remedy">What the user should do about a bad file ("Delete it ...", "Reinstall ...").</param>
    /// <exception cref="InvalidDataException">The file matches no accepted version; the message names the
    /// file, the expected and actual checksums and the remedy.</exception>
    public static void Verify(string path, DatasetFile file, string remedy)
    {
        string actual = Sha256Of(path);
        if (file.AcceptsFile(path, actual)) return;
        long length = new FileInfo(path).Length;
        string what = length < file.Versions.Min(v => v.Length) ? "incomplete (too short)" : "corrupt";
        throw new InvalidDataException(
            $"Dataset file '{path}' is {what}: it has {length.ToString("N0", CultureInfo.InvariantCulture)} bytes with SHA-256 {actual}, " +
            $"expected SHA-256 {file.Expected()}. {remedy}");
    }

    /// <summary>
    /// Downloads <paramref name="url"/> into <paramref name="directory"/>/<c>file.Name</c>: streamed to a
    /// temporary file beside it, checked against <paramref name="file"/>'s checksums, then renamed over the
    /// destination, so the destination is either absent or complete. Nothing is left behind on failure.
    /// </summary>
    /// <returns>The path of the downloaded file.</returns>
    /// <exception cref="HttpRequestException">The request failed or the server answered with an error status.</exception>
    /// <exception cref="InvalidDataException">The bytes match no accepted checksum, or there are too many of them.</exception>
    public static async Task<string> DownloadAsync(HttpClient client, Uri url, DatasetFile file, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        string destination = Path.Combine(directory, file.Name);
        // Same folder as the destination, so the final File.Move is a rename and never a copy across disks.
        string temporary = Path.Combine(directory, $".{file.Name}.{Guid.NewGuid():N}.part");
        try
        {
            string actual;
            long length = 0;
            using (var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false))
            {
                response.EnsureSuccessStatusCode();
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 16];
                int n;
                while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += n;
                    if (length > file.MaxLength)
                        throw new InvalidDataException(
                            $"Downloading {url} was stopped: the server sent more than the {file.MaxLength.ToString("N0", CultureInfo.InvariantCulture)} bytes that {file.Name} has.");
                    hash.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }
                actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (!file.AcceptsFile(temporary, actual))
                throw new InvalidDataException(
                    $"The download of {url} is corrupt or incomplete: {length.ToString("N0", CultureInfo.InvariantCulture)} bytes with SHA-256 {actual}, " +
                    $"expected SHA-256 {file.Expected()}. It was discarded.");
            File.Move(temporary, destination, overwrite: true);
            return destination;
        }
        finally
        {
            // After a successful move the temporary file no longer exists; after any failure it is removed.
            try { File.Delete(temporary); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
