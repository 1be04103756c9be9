namespace GpuNet.Data;

/// <summary>Where <see cref="Datasets.Mnist"/> looks for the files and how it downloads them.</summary>
/// <remarks>By default it downloads from <see cref="Datasets.MnistMirrors"/>; no system folder is searched (Debian
/// has no MNIST package), so set <see cref="DatasetDownloadOptions.SystemDirectory"/> to use copies kept elsewhere.</remarks>
public sealed record MnistOptions() : DatasetDownloadOptions(null, Datasets.MnistMirrors);

public static partial class Datasets
{
    /// <summary>
    /// The download locations, tried in order: the copy TensorFlow's datasets use, the one torchvision uses, and
    /// the original site of the MNIST database (which often refuses automated downloads).
    /// </summary>
    public static IReadOnlyList<Uri> MnistMirrors { get; } =
    [
        new("https://storage.googleapis.com/cvdf-datasets/mnist/"),
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("https://yann.lecun.com/exdb/mnist/"),
    ];

    private const string MnistPublished = "as published on the MNIST database's mirrors";

    // The .gz checksums are those TensorFlow's datasets and torchvision check; the content checksums are of the
    // decompressed IDX files (their MD5s are MNIST's well-known 6bbc9ace..., a25bea73..., 2646ac64..., 27ae3e4e...),
    // so a copy gzipped again by someone else is accepted as well.
    /// <summary>The four files with their accepted checksums: train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<DatasetFile> MnistFiles { get; } =
    [
        new("train-images-idx3-ubyte.gz",
            [new(9_912_422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", MnistPublished)],
            new(47_040_016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db")),
        new("train-labels-idx1-ubyte.gz",
            [new(28_881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", MnistPublished)],
            new(60_008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5")),
        new("t10k-images-idx3-ubyte.gz",
            [new(1_648_877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", MnistPublished)],
            new(7_840_016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7")),
        new("t10k-labels-idx1-ubyte.gz",
            [new(4_542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", MnistPublished)],
            new(10_008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")),
    ];

    /// <summary>
    /// The full MNIST database of handwritten digits (Y. LeCun, C. Cortes, C. J. C. Burges): 60,000 training and
    /// 10,000 test images, 28 x 28 grey, labels 0-9, pixels scaled to [0, 1]; as Keras' <c>mnist.load_data()</c>.
    /// The lecture's model reaches about 97% on its test set (docs/datasets.md); the shipped
    /// <see cref="Mnist10k"/> is a small part of it.
    /// </summary>
    /// <remarks>
    /// Each of the four files is taken from the first place that has it: the cache folder
    /// (<see cref="DatasetDownloadOptions.CacheDirectory"/>, by default <c>~/.gpunet/datasets/mnist</c>), then
    /// <see cref="DatasetDownloadOptions.SystemDirectory"/> when set, then a download into the cache from
    /// <see cref="MnistMirrors"/>. Every file is checked against its SHA-256 (a re-compressed copy by the SHA-256 of its
    /// decompressed bytes) before it is read; a download is written to a temporary file and renamed when it checks out.
    /// </remarks>
    /// <exception cref="InvalidDataException">A file in the cache or system folder fails its checksum.</exception>
    /// <exception cref="DatasetUnavailableException">A file is missing and could not be downloaded; the
    /// message says what failed and where to put the files.</exception>
    public static TrainTestData Mnist(MnistOptions? options = null) => MnistSet.LoadIdx(options ?? new MnistOptions());

    /// <inheritdoc cref="Mnist"/>
    public static Task<TrainTestData> MnistAsync(MnistOptions? options = null, CancellationToken cancellationToken = default) =>
        MnistSet.LoadIdxAsync(options ?? new MnistOptions(), cancellationToken);

    private static PublishedDataset MnistSet => new("mnist", "MNIST", MnistFiles, null, null);
}
