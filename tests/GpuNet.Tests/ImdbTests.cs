using System.IO.Compression;
using System.Text.Json;
using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Datasets.Imdb on a file in Keras' imdb.npz format with made-up reviews (Data/make_imdb_fixture.py; the real 17 MB
/// file is not in the repository and no test downloads it), checked against what Keras' load_data makes of the same
/// file, the multi-hot encoding, bad files, and <c>gpunet imdb</c>.
/// </summary>
public class ImdbTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Data", "imdb-synthetic.npz");
    private static readonly string Expected = Path.Combine(AppContext.BaseDirectory, "Data", "imdb-synthetic-expected.json");

    [Theory]
    [InlineData("defaults")]
    [InlineData("num_words=100,skip_top=5")]
    [InlineData("num_words=100,skip_top=5,oov_char=None")]
    [InlineData("maxlen=30,start_char=None,index_from=0")]
    public void TheEncodingIsKeras(string name)
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Expected)).RootElement.GetProperty(name);
        var settings = expected.GetProperty("settings");
        int? Int(string key) => settings.TryGetProperty(key, out var v) ? v.ValueKind == JsonValueKind.Null ? null : v.GetInt32() : null;
        bool Has(string key) => settings.TryGetProperty(key, out _);
        var options = new ImdbOptions
        {
            Seed = null, // the file's order, as the expected file lists it (Keras shuffles with NumPy's generator)
            NumWords = Int("num_words"),
            SkipTop = Int("skip_top") ?? 0,
            MaxLen = Int("maxlen"),
            StartChar = Has("start_char") ? Int("start_char") : 1,
            OovChar = Has("oov_char") ? Int("oov_char") : 2,
            IndexFrom = Int("index_from") ?? 3,
        };
        var data = Datasets.Imdb(options, Fixture);
        int[][] Sequences(string key) => [.. expected.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(w => w.GetInt32()).ToArray())];
        int[] Labels(string key) => [.. expected.GetProperty(key).EnumerateArray().Select(l => l.GetInt32())];
        Assert.Equal(Sequences("x_train"), data.TrainSequences);
        Assert.Equal(Labels("y_train"), data.TrainLabels);
        Assert.Equal(Sequences("x_test"), data.TestSequences);
        Assert.Equal(Labels("y_test"), data.TestLabels);
        Assert.Equal(expected.GetProperty("num_words").GetInt32(), data.NumWords);
    }

    [Fact]
    public void TheSeededOrderHoldsTheSameReviews()
    {
        var plain = Datasets.Imdb(new ImdbOptions { Seed = null }, Fixture);
        var shuffled = Datasets.Imdb(new ImdbOptions(), Fixture);
        Assert.NotEqual(plain.TrainLabels, shuffled.TrainLabels);
        static IEnumerable<string> Key(int[][] x, int[] y) => x.Select((r, i) => $"{y[i]}:{string.Join(' ', r)}").Order();
        Assert.Equal(Key(plain.TrainSequences, plain.TrainLabels), Key(shuffled.TrainSequences, shuffled.TrainLabels));
        Assert.Equal(shuffled.TrainLabels, Datasets.Imdb(new ImdbOptions(), Fixture).TrainLabels); // the same seed, the same order
    }

    [Fact]
    public void MultiHotMarksEachWordOnce()
    {
        var data = Datasets.Imdb(new ImdbOptions { Seed = null, NumWords = 100 }, Fixture);
        var rows = data.MultiHot();
        Assert.Equal(100, rows.Train.FeatureCount);
        Assert.Equal(data.TrainSequences.Length, rows.Train.Count);
        for (int i = 0; i < 5; i++)
        {
            var words = data.TrainSequences[i].ToHashSet();
            var row = rows.Train.Features.AsSpan(i * 100, 100).ToArray();
            // 1 exactly at the review's distinct word indices (a repeated word is still a 1), 0 elsewhere
            Assert.Equal(words.Order(), Enumerable.Range(0, 100).Where(w => row[w] == 1f));
            Assert.All(row, v => Assert.True(v is 0f or 1f));
        }
        // a narrower encoding leaves the higher indices out
        Assert.Equal(10, data.MultiHot(10).Test.FeatureCount);
    }

    [Fact]
    public void The16_16_1NetworkLearnsTheSyntheticReviews()
    {
        var data = Datasets.Imdb(new ImdbOptions { NumWords = 400 }, Fixture).MultiHot();
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(16, "relu"), new Dense(16, "relu"), new Dense(1, "sigmoid"));
        model.Compile(new RmsProp(0.001f), new BinaryCrossentropy(), backend, seed: 1);
        model.Fit(data.Train, new FitOptions { Epochs = 20, BatchSize = 32, ValidationSplit = 0.4 });
        // positive reviews use ranks 10-29, negative 30-49: separable, 100% measured; chance is 50%
        Assert.InRange(model.Evaluate(data.Test).Accuracy, 0.9, 1.0);
    }

    [Fact]
    public void BadFilesGetAClearMessage()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-imdb-").FullName;
        try
        {
            string text = Path.Combine(folder, "text.npz");
            File.WriteAllText(text, "not a zip");
            var e = Assert.Throws<InvalidDataException>(() => Datasets.Imdb(path: text));
            Assert.Contains("is not a NumPy .npz archive", e.Message);

            // the test arrays missing
            string partial = Path.Combine(folder, "partial.npz");
            using (var zip = ZipFile.Open(partial, ZipArchiveMode.Create))
            using (var source = ZipFile.OpenRead(Fixture))
                foreach (var entry in source.Entries.Where(x => x.FullName.Contains("train", StringComparison.Ordinal)))
                {
                    using var to = zip.CreateEntry(entry.FullName).Open();
                    using var from = entry.Open();
                    from.CopyTo(to);
                }
            e = Assert.Throws<InvalidDataException>(() => Datasets.Imdb(path: partial));
            Assert.Contains("has no array 'x_test'", e.Message);
            Assert.Contains("x_train.npy", e.Message);

            // a labels array read as sequences
            e = Assert.Throws<InvalidDataException>(() => Npz.ReadSequences(Fixture, "y_train"));
            Assert.Contains("holds '<i8' values; expected an object array", e.Message);

            var bad = Assert.Throws<InvalidDataException>(() => Datasets.Imdb(new ImdbOptions { MaxLen = 2 }, Fixture));
            Assert.Contains("maxlen=2 leaves no training review", bad.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void WithoutTheFileTheMessageSaysWhereItIsLookedFor()
    {
        string cache = Directory.CreateTempSubdirectory("gpunet-imdb-cache-").FullName;
        try
        {
            var options = new ImdbOptions { CacheDirectory = cache, SystemDirectory = Path.Combine(cache, "keras"), Download = false };
            var e = Assert.Throws<DatasetUnavailableException>(() => Datasets.Imdb(options));
            Assert.StartsWith("IMDB is not available: imdb.npz is not in the cache", e.Message);
            Assert.Contains("https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz", e.Message);

            // a download that is not Keras' file (this fixture) is refused by its checksum and leaves nothing behind
            var handler = new FakeHandler(_ => new System.Net.Http.HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new System.Net.Http.ByteArrayContent(File.ReadAllBytes(Fixture)) });
            var refused = Assert.Throws<DatasetUnavailableException>(() => Datasets.Imdb(options with { Download = true, HttpHandler = handler }));
            Assert.Contains("SHA-256", refused.Message);
            Assert.Empty(Directory.GetFiles(cache));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void TheCommandTrainsTheThreeModelsAndPlotsThem()
    {
        string folder = Directory.CreateTempSubdirectory("gpunet-imdb-cli-").FullName, png = Path.Combine(folder, "imdb.png");
        try
        {
            var (code, output, error) = TestData.RunCli("imdb", "--data", Fixture, "--num-words", "400", "--batch-size", "32", "--epochs", "5",
                "--device", "cpu", "--plot", png);
            Assert.True(code == 0, error);
            Assert.Contains("IMDB: 400 training and 200 test reviews as 400-column multi-hot rows; 160 training reviews held out", output);
            foreach (var name in new[] { "original", "L2 0.001", "dropout 0.5" })
                Assert.Matches($@"\n  {name}\s+\d\.\d{{4}}\s+\d+\s+\d\.\d{{4}}", output);
            Assert.True(new FileInfo(png).Length > 10_000);

            (code, _, error) = TestData.RunCli("imdb", "--data", Path.Combine(folder, "missing.npz"));
            Assert.Equal(1, code);
            Assert.Contains("--data '", error);
            Assert.Contains("missing.npz' does not exist", error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
