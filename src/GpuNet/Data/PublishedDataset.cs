using System.Globalization;
using System.Text;

namespace GpuNet.Data;

/// <summary>
/// Where a downloadable dataset (<see cref="Datasets.Mnist"/>, <see cref="Datasets.FashionMnist"/>) looks for its
/// files and how it downloads them. Each dataset has its own options type with its own default places.
/// </summary>
public abstract record DatasetDownloadOptions
{
    /// <param name="systemDirectory">The default <see cref="SystemDirectory"/>.</param>
    /// <param name="mirrors">The default <see cref="Mirrors"/>.</param>
    protected DatasetDownloadOptions(string? systemDirectory, IReadOnlyList<Uri> mirrors)
    {
        SystemDirectory = systemDirectory;
        Mirrors = mirrors;
    }

    /// <summary>
    /// The folder that holds (or receives) the four .gz files. Null: <c>$GPUNET_DATASETS/NAME</c>, or
    /// <c>~/.gpunet/datasets/NAME</c> when the variable is not set (NAME is <c>mnist</c> or <c>fashion-mnist</c>).
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>A folder where a system package installs the files, looked at after the cache; null to skip it.</summary>
    public string? SystemDirectory { get; init; }

    /// <summary>Whether missing files may be downloaded into the cache.</summary>
    public bool Download { get; init; } = true;

    /// <summary>Base addresses tried in order; each file is fetched from base + "/" + file name.</summary>
    public IReadOnlyList<Uri> Mirrors { get; init; }

    /// <summary>Sends the download requests (tests pass a fake); null for a fresh <see cref="HttpClient"/>.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Time allowed for downloading one file, body included.</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Receives progress lines ("Downloading ..."); null for silence.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// The files of a published dataset (MNIST's and Fashion-MNIST's four IDX files, Keras' imdb.npz): what they are,
/// how they are checked, where they are looked for and downloaded, and what to tell a user who has none of them.
/// </summary>
/// <param name="Name">Folder name in the cache and prefix of the datasets' names ("mnist").</param>
/// <param name="Title">The name shown in messages ("MNIST").</param>
/// <param name="Files">The files with their accepted checksums (for an IDX set: train images, train labels, test
/// images, test labels).</param>
/// <param name="SystemPackage">The Debian package that installs the files into <paramref name="SystemDirectory"/>, or null.</param>
/// <param name="SystemDirectory">Where that package installs them.</param>
internal sealed record PublishedDataset(string Name, string Title, IReadOnlyList<DatasetFile> Files, string? SystemPackage, string? SystemDirectory)
{
    /// <summary>The four files of an IDX set, found or downloaded, read as a train/test pair.</summary>
    public TrainTestData LoadIdx(DatasetDownloadOptions options) =>
        // Task.Run: no caller's synchronization context can deadlock the blocking wait.
        Task.Run(() => LoadIdxAsync(options, CancellationToken.None)).GetAwaiter().GetResult();

    /// <inheritdoc cref="LoadIdx"/>
    public async Task<TrainTestData> LoadIdxAsync(DatasetDownloadOptions options, CancellationToken cancellationToken)
    {
        var paths = await FindAsync(options, cancellationToken).ConfigureAwait(false);
        return Datasets.Pair(Datasets.Load(Name + "/train", paths[0], paths[1]), Datasets.Load(Name + "/test", paths[2], paths[3]));
    }

    /// <summary>The paths of <see cref="Files"/>: each from the cache, else the system folder, else a download into the cache.</summary>
    public async Task<string[]> FindAsync(DatasetDownloadOptions options, CancellationToken cancellationToken)
    {
        string cache = Path.GetFullPath(options.CacheDirectory ?? DatasetCache.DirectoryFor(Name));
        var paths = new string?[Files.Count];
        for (int i = 0; i < paths.Length; i++)
            paths[i] = FindLocal(Files[i], cache, options.SystemDirectory);

        var missing = Enumerable.Range(0, paths.Length).Where(i => paths[i] is null).ToArray();
        if (missing.Length > 0)
        {
            if (!options.Download)
                throw Unavailable(options, cache, missing, $"downloading is switched off ({options.GetType().Name}.Download = false)", null);
            using var client = options.HttpHandler is null ? new HttpClient() : new HttpClient(options.HttpHandler, disposeHandler: false);
            client.Timeout = Timeout.InfiniteTimeSpan; // DownloadTimeout below covers the body too
            foreach (int i in missing)
            {
                var (path, failures, last) = await DownloadFromMirrors(client, Files[i], cache, options, cancellationToken).ConfigureAwait(false);
                if (path is null)
                    throw Unavailable(options, cache, [.. missing.Where(m => paths[m] is null)],
                        $"downloading {Files[i].Name} failed:{Environment.NewLine}{failures}", last);
                paths[i] = path;
            }
        }
        return [.. paths.Select(p => p!)];
    }

    /// <summary>The cache's copy, else the system folder's, each verified; null when neither has the file.</summary>
    private string? FindLocal(DatasetFile file, string cache, string? system)
    {
        string cached = Path.Combine(cache, file.Name);
        if (File.Exists(cached))
        {
            DatasetCache.Verify(cached, file, $"Delete it and load {Title} again to download a fresh copy.");
            return cached;
        }
        if (system is not null && File.Exists(Path.Combine(system, file.Name)))
        {
            string installed = Path.Combine(system, file.Name);
            DatasetCache.Verify(installed, file,
                (SystemPackage is null ? "" : $"Reinstall the package it came from (sudo apt-get install --reinstall {SystemPackage}), or ") +
                $"replace it with the published file, or remove it from '{system}'.");
            return installed;
        }
        return null;
    }

    private async Task<(string? Path, string Failures, Exception? Last)> DownloadFromMirrors(
        HttpClient client, DatasetFile file, string cache, DatasetDownloadOptions options, CancellationToken cancellationToken)
    {
        var failures = new StringBuilder();
        Exception? last = null;
        foreach (var mirror in options.Mirrors)
        {
            var url = FileUri(mirror, file.Name);
            long size = file.Versions[0].Length;
            options.Log?.Invoke($"Downloading {url} ({size / 1e6:F1} MB) into {cache}");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.DownloadTimeout);
            try
            {
                return (await DatasetCache.DownloadAsync(client, url, file, cache, timeout.Token).ConfigureAwait(false), "", null);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                last = e;
                failures.AppendLine(CultureInfo.InvariantCulture, $"  {url}: no answer within {options.DownloadTimeout} ({options.GetType().Name}.DownloadTimeout)");
            }
            catch (Exception e) when (e is HttpRequestException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                last = e;
                failures.AppendLine(CultureInfo.InvariantCulture, $"  {url}: {e.GetType().Name}: {e.Message}");
            }
        }
        if (options.Mirrors.Count == 0) failures.AppendLine($"  no mirrors are configured ({options.GetType().Name}.Mirrors is empty)");
        return (null, failures.ToString().TrimEnd(), last);
    }

    /// <summary>mirror + name, as if the mirror ended with '/': new Uri("https://x/data", "f") would drop "data".</summary>
    private static Uri FileUri(Uri mirror, string name) =>
        new(mirror.AbsoluteUri.EndsWith('/') ? mirror : new Uri(mirror.AbsoluteUri + "/"), name);

    private DatasetUnavailableException Unavailable(DatasetDownloadOptions options, string cache, int[] missing, string why, Exception? inner)
    {
        var names = missing.Select(i => Files[i].Name).ToArray();
        string where = options.SystemDirectory is null ? $"the cache '{cache}'" : $"the cache '{cache}' nor in '{options.SystemDirectory}'";
        var mirror = options.Mirrors.Count > 0 ? options.Mirrors[0] : null;
        string nl = Environment.NewLine;
        string download = mirror is null
            ? $"download {string.Join(", ", names)} from a published {Title} mirror"
            : $"download {string.Join(", ", names.Select(n => FileUri(mirror, n).ToString()))}";
        string package = SystemPackage is null ? "" :
            $"  - install Debian's package (Debian/Ubuntu): sudo apt-get install {SystemPackage}   (it installs to {SystemDirectory}), or{nl}";
        return new DatasetUnavailableException(
            $"{Title} is not available: {string.Join(", ", names)} {(names.Length == 1 ? "is" : "are")} not in {where}, and {why}{nl}" +
            $"To get it, either{nl}" +
            package +
            $"  - {download}{nl}" +
            $"    into '{cache}' (set {DatasetCache.EnvironmentVariable} to keep datasets in another folder).",
            cache, names, inner);
    }
}
