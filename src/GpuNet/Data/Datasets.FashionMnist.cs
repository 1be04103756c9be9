namespace GpuNet.Data;

/// <summary>Where <see cref="Datasets.FashionMnist"/> looks for the files and how it downloads them.</summary>
/// <remarks>By default it also looks in <see cref="Datasets.FashionMnistSystemDirectory"/> and downloads from
/// <see cref="Datasets.FashionMnistMirrors"/>.</remarks>
public sealed record FashionMnistOptions() : DatasetDownloadOptions(Datasets.FashionMnistSystemDirectory, Datasets.FashionMnistMirrors);

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
    /// (<see cref="DatasetDownloadOptions.CacheDirectory"/>), then <c>/usr/share/datasets/fashion-mnist</c>
    /// (<c>sudo apt-get install dataset-fashion-mnist</c>), then a download into the cache. Every file is
    /// checked against its SHA-256 (about 0.1 s for the 30 MB) before it is read.
    /// </remarks>
    /// <exception cref="InvalidDataException">A file in the cache or system folder fails its checksum.</exception>
    /// <exception cref="DatasetUnavailableException">A file is missing and could not be downloaded; the
    /// message says what failed and how to install or download it.</exception>
    public static TrainTestData FashionMnist(FashionMnistOptions? options = null) => FashionMnistSet.LoadIdx(options ?? new FashionMnistOptions());

    /// <inheritdoc cref="FashionMnist"/>
    public static Task<TrainTestData> FashionMnistAsync(FashionMnistOptions? options = null, CancellationToken cancellationToken = default) =>
        FashionMnistSet.LoadIdxAsync(options ?? new FashionMnistOptions(), cancellationToken);

    private static PublishedDataset FashionMnistSet =>
        new("fashion-mnist", "Fashion-MNIST", FashionMnistFiles, "dataset-fashion-mnist", FashionMnistSystemDirectory);
}
