using System.Diagnostics;
using GpuNet.Backends;
using GpuNet.Cli;
using GpuNet.Data;
using GpuNet.Data.Tabular;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;
using SkiaSharp;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Seeded random mutation of valid IDX, CSV, safetensors (and saved-model) and image files, each for a fixed time:
/// a reader may reject a damaged file only with its documented exception (<see cref="InvalidDataException"/>), never
/// crash with another one. A failure prints the input in base64, so it can be replayed.
/// </summary>
public sealed class ReaderFuzzTests : IDisposable
{
    /// <summary>Per reader: six readers keep the class near 12 s (a mutated image header may declare a large picture, which takes longer to decode);
    /// GPUNET_FUZZ_SECONDS sets a longer budget for a deeper run by hand.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("GPUNET_FUZZ_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 2);

    /// <summary>The mutation stream: fixed in CI, so a failure recurs; GPUNET_FUZZ_SEED explores others.</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("GPUNET_FUZZ_SEED"), out int seed) ? seed : 20261203;

    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>One to four random edits: bit flips, boundary bytes, big-endian and little-endian extreme integers
    /// (the IDX and safetensors length fields), truncation, insertion, deletion and duplication of chunks.</summary>
    private static byte[] Mutate(Random rng, byte[] seed)
    {
        var b = new List<byte>(seed);
        int edits = rng.Next(1, 5);
        for (int e = 0; e < edits && b.Count > 0; e++)
        {
            int at = rng.Next(b.Count);
            switch (rng.Next(8))
            {
                case 0: b[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: b[at] = (byte)rng.Next(256); break;
                case 2: b[at] = new byte[] { 0, 0x7F, 0x80, 0xFF, (byte)',', (byte)'"', (byte)'\n', (byte)'{' }[rng.Next(8)]; break;
                case 3:
                    uint extreme = new uint[] { 0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 60000 }[rng.Next(7)];
                    var bytes = BitConverter.GetBytes(extreme);
                    if (rng.Next(2) == 0) Array.Reverse(bytes);
                    for (int i = 0; i < 4 && at + i < b.Count; i++) b[at + i] = bytes[i];
                    break;
                case 4: b.RemoveRange(at, b.Count - at); break;
                case 5: b.InsertRange(at, Enumerable.Range(0, rng.Next(1, 16)).Select(_ => (byte)rng.Next(256))); break;
                case 6: b.RemoveRange(at, Math.Min(rng.Next(1, 64), b.Count - at)); break;
                default: b.InsertRange(at, b.GetRange(at, Math.Min(rng.Next(1, 64), b.Count - at))); break;
            }
        }
        return [.. b];
    }

    /// <summary>Feeds mutations of <paramref name="seeds"/> to <paramref name="read"/> until the budget is spent.</summary>
    private static int Fuzz(string reader, byte[][] seeds, Action<byte[]> read)
    {
        var rng = new Random(Seed);
        var clock = Stopwatch.StartNew();
        int runs = 0, rejected = 0;
        while (clock.Elapsed < Budget)
        {
            var input = Mutate(rng, seeds[rng.Next(seeds.Length)]);
            try
            {
                read(input);
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{reader}, input {runs} of seed {Seed}: {e.GetType().Name}: {e.Message}\nbase64: {Convert.ToBase64String(input)}");
            }
            runs++;
        }
        Assert.True(runs >= 20, $"{reader}: only {runs} inputs in {Budget.TotalSeconds} s");
        Assert.True(rejected > 0, $"{reader}: no mutation was rejected in {runs} runs; the mutator does not reach the checks");
        return runs;
    }

    [Fact]
    public void IdxReaderRejectsDamagedFilesOnlyWithInvalidData()
    {
        var images = TestData.Idx([3, 4, 4], [.. Enumerable.Range(0, 48).Select(i => (byte)(i * 5))]);
        var labels = TestData.Idx([3], [1, 2, 3]);
        using var zipped = new MemoryStream();
        using (var z = new System.IO.Compression.GZipStream(zipped, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) z.Write(images);
        Fuzz("IdxReader", [images, labels, zipped.ToArray()], bytes => IdxReader.Read(new MemoryStream(bytes), "fuzz"));
    }

    [Fact]
    public void CsvTableRejectsDamagedFilesOnlyWithInvalidData()
    {
        byte[] titanic = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", "titanic.csv"))[..4000];
        byte[] small = System.Text.Encoding.UTF8.GetBytes("a,b,name,y\n1,2.5,\"Smith, J\",x\n,NA,\"quoted \"\"word\"\"\",z\n3,1e3,plain,x\n");
        Fuzz("CsvTable", [titanic, small], bytes =>
        {
            using var reader = new StreamReader(new MemoryStream(bytes));
            CsvTable.Parse(reader, "fuzz.csv");
        });
    }

    [Fact]
    public void SafeTensorsAndModelFilesRejectDamageOnlyWithInvalidData()
    {
        using var backend = new CpuBackend();
        using var model = new Sequential(new Dense(3, "relu"), new BatchNormalization(), new Dense(2, "softmax"));
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), backend);
        model.Fit(new Dataset("d", new float[8], [0, 1, 0, 1], 2, 2), new FitOptions { Epochs = 1 });
        string saved = Path.Combine(_folder, "m.safetensors");
        model.Save(saved);
        byte[] file = File.ReadAllBytes(saved);
        Fuzz("SafeTensorsFile", [file], bytes => SafeTensorsFile.Parse(bytes, "fuzz.safetensors"));

        // the whole loader: config JSON, architecture, shapes, optimizer slots
        string damaged = Path.Combine(_folder, "fuzz.safetensors");
        Fuzz("Sequential.Load", [file], bytes =>
        {
            File.WriteAllBytes(damaged, bytes);
            Sequential.Load(damaged, backend).Dispose();
        });
    }

    [Fact]
    public void ImageInputRejectsDamagedFilesOnlyWithInvalidData()
    {
        using var bitmap = new SKBitmap(12, 9);
        for (int y = 0; y < 9; y++)
            for (int x = 0; x < 12; x++) bitmap.SetPixel(x, y, new SKColor((byte)(x * 20), (byte)(y * 25), 90, (byte)(255 - x)));
        using var image = SKImage.FromBitmap(bitmap);
        byte[][] seeds = [.. new[] { SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Webp }
            .Select(f => image.Encode(f, 90).ToArray())];
        string path = Path.Combine(_folder, "fuzz.img");
        Fuzz("ImageInput", seeds, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            ImageInput.Load(path, 28, out _);
        });
    }

    [Fact]
    public void NpzArraysRejectDamageOnlyWithInvalidData()
    {
        // the .npy inside the archive is what is mutated (a damaged zip is the zip library's to reject): an integer
        // array and a pickled object array of reviews, from the IMDB fixture
        using var fixture = System.IO.Compression.ZipFile.OpenRead(Path.Combine(AppContext.BaseDirectory, "Data", "imdb-synthetic.npz"));
        byte[] Entry(string name)
        {
            using var stream = fixture.GetEntry(name)!.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        byte[] integers = Entry("y_test.npy"), sequences = Entry("x_test.npy")[..3000];
        string path = Path.Combine(_folder, "fuzz.npz");
        Fuzz("Npz", [integers, sequences], bytes =>
        {
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
            using (var entry = zip.CreateEntry("a.npy", System.IO.Compression.CompressionLevel.NoCompression).Open())
                entry.Write(bytes);
            try
            {
                Npz.ReadIntegers(path, "a");
            }
            catch (InvalidDataException)
            {
                Npz.ReadSequences(path, "a"); // either reader; each must reject with InvalidDataException only
            }
            finally
            {
                File.Delete(path);
            }
        });
    }
}
