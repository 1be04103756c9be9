using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// Datasets.FashionMnist: cache, system folder, download (through a fake HttpMessageHandler: no test
/// touches the network), checksums, and the message when nothing works. The real files come from the
/// workplace's shared/datasets/fashion-mnist (Debian's package) or /usr/share/datasets/fashion-mnist.
/// </summary>
[Collection(DatasetEnvironment.Name)]
public class FashionMnistCatalogTests : IDisposable
{
    private static readonly string[] Names =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    private readonly string _root = Directory.CreateTempSubdirectory("gpunet-fashion-").FullName;

    private string Cache => Path.Combine(_root, "cache");
    private string SystemDir => Path.Combine(_root, "system");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The folder with the real .gz files, or a skip when this machine has none.</summary>
    private static string RealFiles()
    {
        if (TestData.SharedDataset("fashion-mnist", Names) is { } shared) return shared;
        if (Names.All(n => File.Exists(Path.Combine(Datasets.FashionMnistSystemDirectory, n)))) return Datasets.FashionMnistSystemDirectory;
        Assert.Skip("No Fashion-MNIST files here: neither shared/datasets/fashion-mnist above the test binaries nor "
                    + "/usr/share/datasets/fashion-mnist (sudo apt-get install dataset-fashion-mnist).");
        return "";
    }

    private static void CopyReal(string to)
    {
        string from = RealFiles();
        Directory.CreateDirectory(to);
        foreach (var n in Names) File.Copy(Path.Combine(from, n), Path.Combine(to, n));
    }

    private FashionMnistOptions Options(FakeHandler handler) =>
        new() { CacheDirectory = Cache, SystemDirectory = SystemDir, HttpHandler = handler };

    private static void AssertIsFashionMnist(TrainTestData data)
    {
        Assert.Equal("fashion-mnist/train", data.Train.Name);
        Assert.Equal("fashion-mnist/test", data.Test.Name);
        Assert.Equal(60_000, data.Train.Count);
        Assert.Equal(10_000, data.Test.Count);
        Assert.Equal(28 * 28, data.Train.FeatureCount);
        Assert.Equal(10, data.Train.ClassCount);
        Assert.Equal(10, data.Test.ClassCount);
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images of each of the 10 classes.
        for (int k = 0; k < 10; k++)
        {
            Assert.Equal(6_000, data.Train.Labels.Count(l => l == k));
            Assert.Equal(1_000, data.Test.Labels.Count(l => l == k));
        }
        // pixels / 255: the darkest byte 0 -> 0, the brightest 255 -> 1
        Assert.Equal(0f, data.Train.Features.Min());
        Assert.Equal(1f, data.Train.Features.Max());
    }

    // ---------------------------------------------------------------- where the files come from

    [Fact]
    public void LoadsFromTheCache()
    {
        CopyReal(Cache);
        var handler = FakeHandler.Unreachable();
        AssertIsFashionMnist(Datasets.FashionMnist(Options(handler)));
        Assert.Empty(handler.Requests);
        Assert.Equal(10, Datasets.FashionMnistClassNames.Count);
    }

    [Fact]
    public void LoadsFromTheSystemFolderWhenTheCacheIsEmpty()
    {
        CopyReal(SystemDir);
        var handler = FakeHandler.Unreachable();
        AssertIsFashionMnist(Datasets.FashionMnist(Options(handler)));
        Assert.Empty(handler.Requests);
        Assert.False(Directory.Exists(Cache)); // nothing is copied: the package's files are used where they are
    }

    [Fact]
    public void DownloadsMissingFilesIntoTheCacheFromTheNextMirror()
    {
        // The train files are in the cache already; the test files come from the default mirrors,
        // the first of which answers 503 so the second one serves them.
        string real = RealFiles();
        Directory.CreateDirectory(Cache);
        foreach (var n in Names[..2]) File.Copy(Path.Combine(real, n), Path.Combine(Cache, n));
        var handler = new FakeHandler(request =>
            request.RequestUri!.Host.Contains("github", StringComparison.Ordinal)
                ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                : Ok(Published(real, Path.GetFileName(request.RequestUri.AbsolutePath))));
        var lines = new List<string>();

        var data = Datasets.FashionMnist(Options(handler) with { Log = lines.Add });

        AssertIsFashionMnist(data);
        Assert.Equal(
        [
            new Uri(Datasets.FashionMnistMirrors[0], "t10k-images-idx3-ubyte.gz"), new Uri(Datasets.FashionMnistMirrors[1], "t10k-images-idx3-ubyte.gz"),
            new Uri(Datasets.FashionMnistMirrors[0], "t10k-labels-idx1-ubyte.gz"), new Uri(Datasets.FashionMnistMirrors[1], "t10k-labels-idx1-ubyte.gz"),
        ], handler.Requests);
        Assert.Equal(4, lines.Count(l => l.StartsWith("Downloading", StringComparison.Ordinal)));
        // the cache now holds the four files (the downloaded ones byte for byte as served) and nothing else
        Assert.Equal(Names.Order(), Directory.GetFiles(Cache).Select(Path.GetFileName).Order());
        Assert.Equal(Published(real, Names[2]), File.ReadAllBytes(Path.Combine(Cache, Names[2])));

        // A second load is served by the cache alone.
        var offline = FakeHandler.Unreachable();
        Assert.Equal(10_000, Datasets.FashionMnist(Options(offline)).Test.Count);
        Assert.Empty(offline.Requests);
    }

    [Fact]
    public void BothPublishedAndDebianGzipVariantsAreAccepted()
    {
        // Debian's package holds the published files with the gzip header normalized: FNAME dropped and
        // MTIME set to the package date. Rebuilding the published header (FLG 0x08, the 2017-08-31 MTIME,
        // the name + NUL) in front of the same deflate data reproduces the published bytes exactly:
        // 24 or 23 bytes more, and the checksums tensorflow/datasets lists for the S3 mirror.
        string real = RealFiles();
        for (int i = 0; i < 4; i++)
        {
            var file = Datasets.FashionMnistFiles[i];
            Assert.Equal(Names[i], file.Name);
            byte[] debian = File.ReadAllBytes(Path.Combine(real, file.Name));
            byte[] published = Published(real, file.Name);
            Assert.Equal(debian.Length + Path.GetFileNameWithoutExtension(file.Name).Length + 1, published.Length);
            Assert.Equal(file.Versions[0].Sha256, Convert.ToHexStringLower(SHA256.HashData(published)));
            Assert.Equal(file.Versions[0].Length, published.LongLength);
            Assert.Equal(file.Versions[1].Sha256, Convert.ToHexStringLower(SHA256.HashData(debian)));
            Assert.Equal(file.Versions[1].Length, debian.LongLength);
        }
    }

    // ---------------------------------------------------------------- bad files

    [Theory]
    [InlineData(100, "incomplete")] // a short file, e.g. a download cut off by hand
    [InlineData(29_491, "corrupt")]  // the right length (Debian's), the wrong bytes
    public void ABadFileInTheCacheIsRejectedByItsChecksum(int length, string what)
    {
        Directory.CreateDirectory(Cache);
        string path = Path.Combine(Cache, "train-labels-idx1-ubyte.gz");
        var bytes = new byte[length];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var handler = FakeHandler.Unreachable();

        var e = Assert.Throws<InvalidDataException>(() => Datasets.FashionMnist(Options(handler)));

        Assert.Contains(path, e.Message);
        Assert.Contains(what, e.Message);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(bytes)), e.Message); // the actual checksum
        Assert.Contains(Datasets.FashionMnistFiles[1].Versions[0].Sha256, e.Message); // the expected ones
        Assert.Contains(Datasets.FashionMnistFiles[1].Versions[1].Sha256, e.Message);
        Assert.Contains("Delete it", e.Message);
        Assert.Empty(handler.Requests); // rejected, not silently replaced
    }

    [Fact]
    public void ABadFileInTheSystemFolderIsRejected()
    {
        Directory.CreateDirectory(SystemDir);
        string path = Path.Combine(SystemDir, "t10k-labels-idx1-ubyte.gz");
        File.WriteAllBytes(path, [0x1F, 0x8B, 0x08, 0x00]);
        var e = Assert.Throws<InvalidDataException>(() => Datasets.FashionMnist(Options(FakeHandler.Unreachable())));
        Assert.Contains(path, e.Message);
        Assert.Contains("4 bytes", e.Message);
        Assert.Contains("incomplete", e.Message);
        Assert.Contains("sudo apt-get install --reinstall dataset-fashion-mnist", e.Message);
    }

    public static TheoryData<string> BadDownloads => ["html", "too long", "cut off"];

    [Theory]
    [MemberData(nameof(BadDownloads))]
    public void ABadDownloadIsRejectedAndLeavesNothingBehind(string kind)
    {
        var handler = new FakeHandler(_ => kind switch
        {
            // a captive portal or an error page answering 200
            "html" => Ok("<html><body>Please log in</body></html>"u8.ToArray()),
            // more bytes than the largest accepted version (26,421,880): stopped before they are all written
            "too long" => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new EndlessStream()) },
            // the connection drops after 100 kB
            _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new EndlessStream(failAfter: 100_000)) },
        });
        // no trailing slash: the file name is still appended after "fashion"
        var options = Options(handler) with { Mirrors = [new Uri("https://mirror.test/fashion")] };

        var e = Assert.Throws<DatasetUnavailableException>(() => Datasets.FashionMnist(options));

        Assert.Contains("https://mirror.test/fashion/train-images-idx3-ubyte.gz", e.Message);
        Assert.Contains(kind switch { "html" => "SHA-256", "too long" => "more than the 26,421,880 bytes", _ => "connection reset" }, e.Message);
        Assert.Single(handler.Requests); // the first file failed on the only mirror: the others are not tried
        Assert.True(Directory.Exists(Cache));
        Assert.Empty(Directory.GetFileSystemEntries(Cache)); // no partial or temporary file
    }

    // ---------------------------------------------------------------- nothing available

    [Fact]
    public void WhenNothingWorksTheMessageSaysHowToGetIt()
    {
        var handler = new FakeHandler(_ => throw new HttpRequestException("Name or service not known (raw.githubusercontent.com:443)"));

        var e = Assert.Throws<DatasetUnavailableException>(() => Datasets.FashionMnist(Options(handler)));

        Assert.Contains("sudo apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains(Cache, e.Message);                              // where the files belong
        Assert.Contains(SystemDir, e.Message);                          // where else it looked
        Assert.Contains("Name or service not known", e.Message);        // what failed
        Assert.Contains(new Uri(Datasets.FashionMnistMirrors[0], "train-images-idx3-ubyte.gz").ToString(), e.Message);
        Assert.All(Names, n => Assert.Contains(n, e.Message));
        Assert.Contains(DatasetCache.EnvironmentVariable, e.Message);
        Assert.Equal(Cache, e.CacheDirectory);
        Assert.Equal(Names, e.MissingFiles);
        Assert.IsType<HttpRequestException>(e.InnerException);
        Assert.Equal(Datasets.FashionMnistMirrors.Count, handler.Requests.Count); // each mirror tried once
    }

    [Fact]
    public void WithDownloadsOffNothingIsRequested()
    {
        var handler = FakeHandler.Unreachable();
        var e = Assert.Throws<DatasetUnavailableException>(() => Datasets.FashionMnist(Options(handler) with { Download = false }));
        Assert.Contains("Download = false", e.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public void TheDefaultCacheFollowsTheEnvironmentVariable()
    {
        string? saved = Environment.GetEnvironmentVariable(DatasetCache.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DatasetCache.EnvironmentVariable, null);
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            Assert.Equal(Path.Combine(home, ".gpunet", "datasets", "fashion-mnist"), DatasetCache.DirectoryFor("fashion-mnist"));

            Environment.SetEnvironmentVariable(DatasetCache.EnvironmentVariable, _root);
            Assert.Equal(Path.Combine(_root, "fashion-mnist"), DatasetCache.DirectoryFor("fashion-mnist"));
            // No CacheDirectory in the options: the message points into $GPUNET_DATASETS.
            var options = new FashionMnistOptions { SystemDirectory = null, Download = false };
            var e = Assert.Throws<DatasetUnavailableException>(() => Datasets.FashionMnist(options));
            Assert.Equal(Path.Combine(_root, "fashion-mnist"), e.CacheDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(DatasetCache.EnvironmentVariable, saved);
        }
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>
    /// The published bytes of a file, rebuilt from Debian's copy: FLG gains FNAME (0x08), MTIME goes back to
    /// the published one, and the file name + NUL follow the 10-byte header. The deflate data is unchanged.
    /// </summary>
    private static byte[] Published(string realFolder, string name)
    {
        byte[] debian = File.ReadAllBytes(Path.Combine(realFolder, name));
        Assert.Equal(0, debian[3]); // Debian's header has no optional fields
        // MTIMEs found in the published labels files (the zalandoresearch repository), 2017-08-31 10:50 UTC.
        uint mtime = name.StartsWith("train", StringComparison.Ordinal) ? 1504176606u : 1504176627u;
        byte[] fileName = System.Text.Encoding.ASCII.GetBytes(Path.GetFileNameWithoutExtension(name) + "\0");
        var published = new byte[debian.Length + fileName.Length];
        debian.AsSpan(0, 10).CopyTo(published);
        published[3] = 0x08;
        BinaryPrimitives.WriteUInt32LittleEndian(published.AsSpan(4), mtime);
        fileName.CopyTo(published, 10);
        debian.AsSpan(10).CopyTo(published.AsSpan(10 + fileName.Length));
        return published;
    }

    private static HttpResponseMessage Ok(byte[] body) => new(HttpStatusCode.OK) { Content = new ByteArrayContent(body) };

    /// <summary>Zero bytes forever, or until <c>failAfter</c> bytes, then a dropped connection.</summary>
    private sealed class EndlessStream(long failAfter = long.MaxValue) : Stream
    {
        private long _sent;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _sent; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= failAfter) throw new IOException("The connection was reset by the peer (connection reset).");
            int n = (int)Math.Min(count, failAfter - _sent);
            Array.Clear(buffer, offset, n);
            _sent += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
