using System.Globalization;
using System.Text;

namespace GpuNet.Data;

/// <summary>Where <see cref="Datasets.FashionMnist"/> looks for the files and how it downloads them.</summary>
public sealed record FashionMnistOptions
{
    /// <summary>
    /// The folder that holds (or receives) the four .gz files. Null: <c>$GPUNET_DATASETS/fashion-mnist</c>,
    /// or <c>~/.gpunet/datasets/fashion-mnist</c> when the variable is not set.
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Where Debian's package <c>dataset-fashion-mnist</c> installs the files; null to skip it.</summary>
    public string? SystemDirectory { get; init; } = Datasets.FashionMnistSystemDirectory;

    /// <summary>Whether missing files may be downloaded into the cache.</summary>
    public bool Download { get; init; } = true;

    /// <summary>Base addresses tried in order; each file is fetched from base + "/" + file name.</summary>
    public IReadOnlyList<Uri> Mirrors { get; init; } = Datasets.FashionMnistMirrors;

    /// <summary>Sends the download requests (tests pass a fake); null for a fresh <see cref="HttpClient"/>.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Time allowed for downloading one file, body included.</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Receives progress lines ("Downloading ..."); null for silence.</summary>
    public Action<string>? Log { get; init; }
}

public static partial class Datasets
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs Fashion-MNIST.</summary>
    public const string FashionMnistSystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names of Fashion-MNIST labels 0-9.</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// The download locations, tried in order: the zalandoresearch/fashion-mnist repository (data/fashion/),
    /// the project's documented mirror, and the copy Keras' <c>fashion_mnist.load_data()</c> uses.
    /// </summary>
    /// <remarks>The S3 mirror is plain http; every download is checked against its SHA-256 before use.</remarks>
    public static IReadOnlyList<Uri> FashionMnistMirrors { get; } =
    [
        new("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        new("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        new("https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
    ];

    private const string Published = "as published by zalandoresearch";
    private const string Debian = "Debian's dataset-fashion-mnist package, same data with a normalized gzip header";

    // Published: the zalandoresearch repository's data/fashion/*.gz (identical to the S3 mirror's files, whose
    // checksums tensorflow/datasets lists). Debian: the package's dh_strip_nondeterminism drops the gzip
    // header's file name and time stamp, so its .gz files are shorter by exactly the name + NUL and have other
    // checksums, while the deflate data and CRC are the same bytes.
    /// <summary>The four files with their accepted checksums: train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<DatasetFile> FashionMnistFiles { get; } =
    [
        new("train-images-idx3-ubyte.gz", [
            new(26_421_880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", Published),
            new(26_421_856, "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7", Debian)]),
        new("train-labels-idx1-ubyte.gz", [
            new(29_515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", Published),
            new(29_491, "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056", Debian)]),
        new("t10k-images-idx3-ubyte.gz", [
            new(4_422_102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", Published),
            new(4_422_079, "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa", Debian)]),
        new("t10k-labels-idx1-ubyte.gz", [
            new(5_148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", Published),
            new(5_125, "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05", Debian)]),
    ];

    /// <summary>
    /// Fashion-MNIST (Zalando, MIT license): 60,000 training and 10,000 test images of clothing, 28 x 28 grey,
    /// labels 0-9 (<see cref="FashionMnistClassNames"/>), pixels scaled to [0, 1]; as Keras' <c>load_data()</c>.
    /// </summary>
    /// <remarks>
    /// Each of the four files is taken from the first place that has it: the cache folder
    /// (<see cref="FashionMnistOptions.CacheDirectory"/>), then <c>/usr/share/datasets/fashion-mnist</c>
    /// (<c>sudo apt-get install dataset-fashion-mnist</c>), then a download into the cache. Every file is
    /// checked against its SHA-256 (about 0.1 s for the 30 MB) before it is read.
    /// </remarks>
    /// <exception cref="InvalidDataException">A file in the cache or system folder fails its checksum.</exception>
    /// <exception cref="DatasetUnavailableException">A file is missing and could not be downloaded; the
    /// message says what failed and how to install or download it.</exception>
    public static TrainTestData FashionMnist(FashionMnistOptions? options = null) =>
        // Task.Run: no caller's synchronization context can deadlock the blocking wait.
        Task.Run(() => FashionMnistAsync(options)).GetAwaiter().GetResult();

    /// <inheritdoc cref="FashionMnist"/>
    public static async Task<TrainTestData> FashionMnistAsync(FashionMnistOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FashionMnistOptions();
        string cache = Path.GetFullPath(options.CacheDirectory ?? DatasetCache.DirectoryFor("fashion-mnist"));
        var paths = new string?[FashionMnistFiles.Count];
        for (int i = 0; i < paths.Length; i++)
            paths[i] = FindLocal(FashionMnistFiles[i], cache, options.SystemDirectory);

        var missing = Enumerable.Range(0, paths.Length).Where(i => paths[i] is null).ToArray();
        if (missing.Length > 0)
        {
            if (!options.Download)
                throw Unavailable(options, cache, missing, "downloading is switched off (FashionMnistOptions.Download = false)", null);
            using var client = options.HttpHandler is null ? new HttpClient() : new HttpClient(options.HttpHandler, disposeHandler: false);
            client.Timeout = Timeout.InfiniteTimeSpan; // DownloadTimeout below covers the body too
            foreach (int i in missing)
            {
                var (path, failures, last) = await DownloadFromMirrors(client, FashionMnistFiles[i], cache, options, cancellationToken).ConfigureAwait(false);
                if (path is null)
                    throw Unavailable(options, cache, [.. missing.Where(m => paths[m] is null)],
                        $"downloading {FashionMnistFiles[i].Name} failed:{Environment.NewLine}{failures}", last);
                paths[i] = path;
            }
        }
        return Pair(Load("fashion-mnist/train", paths[0]!, paths[1]!), Load("fashion-mnist/test", paths[2]!, paths[3]!));
    }

    /// <summary>The cache's copy, else the system folder's, each verified; null when neither has the file.</summary>
    private static string? FindLocal(DatasetFile file, string cache, string? system)
    {
        string cached = Path.Combine(cache, file.Name);
        if (File.Exists(cached))
        {
            DatasetCache.Verify(cached, file, "Delete it and load Fashion-MNIST again to download a fresh copy.");
            return cached;
        }
        if (system is not null && File.Exists(Path.Combine(system, file.Name)))
        {
            string installed = Path.Combine(system, file.Name);
            DatasetCache.Verify(installed, file,
                "Reinstall the package it came from (sudo apt-get install --reinstall dataset-fashion-mnist), " +
                $"or replace it with the published file, or remove it from '{system}'.");
            return installed;
        }
        return null;
    }

    private static async Task<(string? Path, string Failures, Exception? Last)> DownloadFromMirrors(
        HttpClient client, DatasetFile file, string cache, FashionMnistOptions options, CancellationToken cancellationToken)
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
                failures.AppendLine(CultureInfo.InvariantCulture, $"  {url}: no answer within {options.DownloadTimeout} (FashionMnistOptions.DownloadTimeout)");
            }
            catch (Exception e) when (e is HttpRequestException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                last = e;
                failures.AppendLine(CultureInfo.InvariantCulture, $"  {url}: {e.GetType().Name}: {e.Message}");
            }
        }
        if (options.Mirrors.Count == 0) failures.AppendLine("  no mirrors are configured (FashionMnistOptions.Mirrors is empty)");
        return (null, failures.ToString().TrimEnd(), last);
    }

    /// <summary>mirror + name, as if the mirror ended with '/': new Uri("https://x/data", "f") would drop "data".</summary>
    private static Uri FileUri(Uri mirror, string name) =>
        new(mirror.AbsoluteUri.EndsWith('/') ? mirror : new Uri(mirror.AbsoluteUri + "/"), name);

    private static DatasetUnavailableException Unavailable(FashionMnistOptions options, string cache, int[] missing, string why, Exception? inner)
    {
        var names = missing.Select(i => FashionMnistFiles[i].Name).ToArray();
        string where = options.SystemDirectory is null ? $"the cache '{cache}'" : $"the cache '{cache}' nor in '{options.SystemDirectory}'";
        var mirror = options.Mirrors.Count > 0 ? options.Mirrors[0] : FashionMnistMirrors[0];
        string nl = Environment.NewLine;
        return new DatasetUnavailableException(
            $"Fashion-MNIST is not available: {string.Join(", ", names)} {(names.Length == 1 ? "is" : "are")} not in {where}, and {why}{nl}" +
            $"To get it, either{nl}" +
            $"  - install Debian's package (Debian/Ubuntu): sudo apt-get install dataset-fashion-mnist   (it installs to {FashionMnistSystemDirectory}), or{nl}" +
            $"  - download {string.Join(", ", names.Select(n => FileUri(mirror, n).ToString()))}{nl}" +
            $"    into '{cache}' (set {DatasetCache.EnvironmentVariable} to keep datasets in another folder).",
            cache, names, inner);
    }
}
