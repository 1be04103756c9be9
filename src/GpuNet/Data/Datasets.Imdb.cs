namespace GpuNet.Data;

/// <summary>
/// How <see cref="Datasets.Imdb"/> finds Keras' <c>imdb.npz</c> and encodes its reviews; the encoding options are
/// Keras' <c>imdb.load_data</c> arguments with the same defaults.
/// </summary>
/// <remarks>By default the file is looked for in the cache (<c>~/.gpunet/datasets/imdb</c>), then in Keras' own cache
/// (<c>~/.keras/datasets</c>, where <c>keras.datasets.imdb.load_data()</c> leaves it), then downloaded from
/// <see cref="Datasets.ImdbMirrors"/>.</remarks>
public sealed record ImdbOptions() : DatasetDownloadOptions(Datasets.KerasCacheDirectory, Datasets.ImdbMirrors)
{
    /// <summary>Keep the words of rank below this (the most frequent); others become <see cref="OovChar"/>. Null: all.</summary>
    public int? NumWords { get; init; }

    /// <summary>The most frequent words to drop (become <see cref="OovChar"/>): indices below this.</summary>
    public int SkipTop { get; init; }

    /// <summary>Leave out reviews of this many words or more (Keras keeps those shorter than maxlen). Null: keep all.</summary>
    public int? MaxLen { get; init; }

    /// <summary>Prepended to every review (null: nothing); 1 as in Keras.</summary>
    public int? StartChar { get; init; } = 1;

    /// <summary>Replaces the words cut by <see cref="NumWords"/> and <see cref="SkipTop"/> (null: they are dropped); 2 as in Keras.</summary>
    public int? OovChar { get; init; } = 2;

    /// <summary>Added to every word's rank (0 padding, 1 start, 2 out-of-vocabulary are reserved below 3).</summary>
    public int IndexFrom { get; init; } = 3;

    /// <summary>Seed of the order of the reviews; null keeps the file's order.</summary>
    public int? Seed { get; init; } = 113;
}

/// <summary>The IMDB reviews as word indices (Keras' <c>imdb.load_data</c>): 1 = positive, 0 = negative.</summary>
/// <param name="NumWords">The vocabulary size used: every index is below it.</param>
public sealed record ImdbData(int[][] TrainSequences, int[] TrainLabels, int[][] TestSequences, int[] TestLabels, int NumWords)
{
    /// <summary>
    /// Multi-hot rows, as the lecture's <c>vectorize_sequences</c>: row i has a 1 in column w for every word index w
    /// of review i (how often it occurs is lost), so a review becomes <paramref name="dimension"/> floats.
    /// </summary>
    /// <param name="dimension">Columns; indices at or above it are left out. Null: <see cref="NumWords"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rows would need more than 2^31 floats; lower the dimension.</exception>
    public TrainTestData MultiHot(int? dimension = null)
    {
        int d = dimension ?? NumWords;
        return new TrainTestData(Encode("imdb/train", TrainSequences, TrainLabels, d), Encode("imdb/test", TestSequences, TestLabels, d));
    }

    private static Dataset Encode(string name, int[][] sequences, int[] labels, int dimension)
    {
        long size = (long)sequences.Length * dimension;
        if (size > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension,
                $"{sequences.Length:N0} reviews x {dimension:N0} columns is {size:N0} floats, more than one array holds ({Array.MaxLength:N0}). Use a smaller num_words.");
        return new Dataset(name, Tabular.Encoding.MultiHot(sequences, dimension), labels, dimension, 2);
    }
}

public static partial class Datasets
{
    /// <summary>Where Keras caches its datasets (<c>~/.keras/datasets</c>).</summary>
    public static string KerasCacheDirectory { get; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".keras", "datasets");

    /// <summary>Where Keras' <c>imdb.load_data()</c> downloads <c>imdb.npz</c> from.</summary>
    public static IReadOnlyList<Uri> ImdbMirrors { get; } = [new("https://storage.googleapis.com/tensorflow/tf-keras-datasets/")];

    /// <summary>Keras' imdb.npz, with the SHA-256 that <c>imdb.load_data</c> checks.</summary>
    public static DatasetFile ImdbFile { get; } = new("imdb.npz",
        [new(17_464_789, "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f", "as Keras downloads it")]);

    /// <summary>
    /// The IMDB movie-review sentiment set (25,000 training and 25,000 test reviews, labelled positive or
    /// negative) as Keras' <c>imdb.load_data</c> gives it: each review a list of word indices, by frequency rank
    /// plus <see cref="ImdbOptions.IndexFrom"/>, with Keras' <c>num_words</c>, <c>skip_top</c>, <c>maxlen</c>,
    /// <c>start_char</c> and <c>oov_char</c>. <see cref="ImdbData.MultiHot"/> makes the lecture's 10,000-column rows.
    /// </summary>
    /// <remarks>
    /// Read from the file given by <paramref name="path"/>, else found or downloaded as <see cref="ImdbOptions"/> says
    /// (checked against its SHA-256). The reviews come in a seeded random order (<see cref="ImdbOptions.Seed"/>),
    /// not NumPy's: the sets are Keras', their order is not.
    /// </remarks>
    /// <param name="options">Encoding and where to look; null for Keras' defaults.</param>
    /// <param name="path">An <c>imdb.npz</c> to read instead of the cache (no checksum: any file in the format works).</param>
    /// <exception cref="InvalidDataException">The file is damaged or not in Keras' format, or maxlen leaves a set empty.</exception>
    /// <exception cref="DatasetUnavailableException">No file was found and none could be downloaded.</exception>
    public static ImdbData Imdb(ImdbOptions? options = null, string? path = null)
    {
        options ??= new ImdbOptions();
        if (options.NumWords is < 1) throw new ArgumentOutOfRangeException(nameof(options), options.NumWords, $"num_words must be positive; received {options.NumWords}. The lecture uses 10000.");
        if (options.SkipTop < 0) throw new ArgumentOutOfRangeException(nameof(options), options.SkipTop, $"skip_top must be >= 0; received {options.SkipTop}.");
        if (options.MaxLen is < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxLen, $"maxlen must be positive; received {options.MaxLen}.");
        if (options.IndexFrom < 0) throw new ArgumentOutOfRangeException(nameof(options), options.IndexFrom, $"index_from must be >= 0; received {options.IndexFrom}.");
        path ??= Task.Run(() => new PublishedDataset("imdb", "IMDB", [ImdbFile], null, KerasCacheDirectory).FindAsync(options, CancellationToken.None))
            .GetAwaiter().GetResult()[0];

        var xTrain = Npz.ReadSequences(path, "x_train");
        var yTrain = Labels(path, "y_train", xTrain.Length);
        var xTest = Npz.ReadSequences(path, "x_test");
        var yTest = Labels(path, "y_test", xTest.Length);
        if (options.Seed is int seed)
        {
            var rng = new Random(seed);
            Shuffle(rng, xTrain, yTrain);
            Shuffle(rng, xTest, yTest);
        }

        int[] Shift(int[] x)
        {
            int start = options.StartChar is null ? 0 : 1;
            var r = new int[x.Length + start];
            if (options.StartChar is int s) r[0] = s;
            for (int i = 0; i < x.Length; i++) r[i + start] = x[i] + options.IndexFrom;
            return r;
        }
        var train = xTrain.Select(Shift).Zip(yTrain).ToList();
        var test = xTest.Select(Shift).Zip(yTest).ToList();
        if (options.MaxLen is int maxLen)
        {
            // as Keras' remove_long_seq: a review is kept when it is shorter than maxlen
            train = train.Where(r => r.First.Length < maxLen).ToList();
            test = test.Where(r => r.First.Length < maxLen).ToList();
            if (train.Count == 0 || test.Count == 0)
                throw new InvalidDataException($"maxlen={maxLen} leaves no {(train.Count == 0 ? "training" : "test")} review in '{path}'; increase maxlen.");
        }
        int numWords = options.NumWords ?? train.Concat(test).Max(r => r.First.Length == 0 ? 0 : r.First.Max());
        int[] Cut(int[] x) => options.OovChar is int oov
            ? [.. x.Select(w => w >= options.SkipTop && w < numWords ? w : oov)]
            : [.. x.Where(w => w >= options.SkipTop && w < numWords)];
        return new ImdbData([.. train.Select(r => Cut(r.First))], [.. train.Select(r => r.Second)],
                            [.. test.Select(r => Cut(r.First))], [.. test.Select(r => r.Second)], numWords);
    }

    private static int[] Labels(string path, string name, int count)
    {
        var labels = Npz.ReadIntegers(path, name);
        if (labels.Length != count)
            throw new InvalidDataException($"Array '{name}' of '{path}' holds {labels.Length:N0} labels for {count:N0} reviews; they must match.");
        foreach (long l in labels)
            if (l is not (0 or 1))
                throw new InvalidDataException($"Array '{name}' of '{path}' holds the label {l}; IMDB labels are 0 (negative) and 1 (positive).");
        return [.. labels.Select(l => (int)l)];
    }

    private static void Shuffle(Random rng, int[][] x, int[] y)
    {
        for (int i = x.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (x[i], x[j]) = (x[j], x[i]);
            (y[i], y[j]) = (y[j], y[i]);
        }
    }
}
