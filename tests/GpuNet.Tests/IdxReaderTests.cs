using System.Buffers.Binary;
using System.IO.Compression;
using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests;

public class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gpunet-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Idx(int[] dims, byte[] data, byte type = 0x08) => TestData.Idx(dims, data, type);

    private string Write(string name, byte[] bytes, bool gzip)
    {
        string path = Path.Combine(_dir, name);
        if (gzip)
        {
            using var f = File.Create(path);
            using var z = new GZipStream(f, CompressionLevel.Fastest);
            z.Write(bytes);
        }
        else File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsImagesRawAndGzip(bool gzip)
    {
        var data = Enumerable.Range(0, 2 * 3 * 2).Select(i => (byte)(i * 10)).ToArray();
        var idx = IdxReader.Read(Write("images-idx3-ubyte", Idx([2, 3, 2], data), gzip), 3);
        Assert.Equal([2, 3, 2], idx.Dimensions);
        Assert.Equal(2, idx.Count);
        Assert.Equal(6, idx.ItemSize);
        Assert.Equal(data, idx.Data);
    }

    [Fact]
    public void RejectsABadMagicNumber()
    {
        var bytes = Idx([2], [1, 2]);
        bytes[0] = 0x50; // a PNG or text file, say
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("x", bytes, false)));
        Assert.Contains("magic", e.Message);
        Assert.Contains("0x00000801", e.Message);
    }

    [Fact]
    public void RejectsANonByteElementType()
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("x", Idx([1], [0, 0, 0, 0], type: 0x0D), false)));
        Assert.Contains("0x0D", e.Message);
    }

    [Fact]
    public void RejectsSwappedImagesAndLabels()
    {
        string labels = Write("labels", Idx([2], [1, 2]), true);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(labels, expectedDimensions: 3));
        Assert.Contains("swapped", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RejectsTruncatedData(bool gzip)
    {
        var full = Idx([3, 2, 2], new byte[12]);
        string path = Write("short", full[..^5], gzip);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path, 3));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("12 bytes", e.Message);
        Assert.Contains("only 7", e.Message);
    }

    [Fact]
    public void RejectsATruncatedHeader()
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("h", Idx([3, 2, 2], [])[..9], false)));
        Assert.Contains("header", e.Message);
    }

    [Fact]
    public void RejectsTrailingData()
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("long", Idx([2], [1, 2, 3]), false)));
        Assert.Contains("more data", e.Message);
    }

    [Fact]
    public void RejectsNegativeDimensions()
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(Write("neg", Idx([-4], []), false)));
        Assert.Contains("-4", e.Message);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        string path = Path.Combine(_dir, "nope.gz");
        var e = Assert.Throws<FileNotFoundException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void CorruptGzipIsReportedAsSuch()
    {
        var gz = File.ReadAllBytes(Write("c.gz", Idx([2, 2, 2], new byte[8]), true));
        for (int i = 10; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        File.WriteAllBytes(Path.Combine(_dir, "c.gz"), gz);
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(Path.Combine(_dir, "c.gz"), 3));
    }

    [Fact]
    public void FolderWithTrainAndTestSetsLoadsBoth()
    {
        Write("train-images-idx3-ubyte.gz", Idx([4, 2, 2], Enumerable.Range(0, 16).Select(i => (byte)(i * 17)).ToArray()), true);
        Write("train-labels-idx1-ubyte.gz", Idx([4], [0, 1, 2, 1]), true);
        Write("t10k-images-idx3-ubyte", Idx([2, 2, 2], new byte[8]), false);
        Write("t10k-labels-idx1-ubyte", Idx([2], [2, 0]), false);
        var sets = Datasets.FromIdxFolder(_dir);
        Assert.Equal(4, sets.Train.Count);
        Assert.Equal(2, sets.Test.Count);
        Assert.Equal(4, sets.Train.FeatureCount);
        Assert.Equal(255f / 255f, sets.Train.Features[15]);
        Assert.Equal(17f / 255f, sets.Train.Features[1], 6);
        Assert.Equal([2, 0], sets.Test.Labels);
    }

    [Fact]
    public void TrainAndTestAgreeOnTheClassCountWhenTheTestSetLacksAClass()
    {
        Write("train-images-idx3-ubyte", Idx([3, 1, 1], new byte[3]), false);
        Write("train-labels-idx1-ubyte", Idx([3], [0, 1, 4]), false);
        Write("t10k-images-idx3-ubyte", Idx([2, 1, 1], new byte[2]), false);
        Write("t10k-labels-idx1-ubyte", Idx([2], [0, 1]), false);
        var sets = Datasets.FromIdxFolder(_dir);
        Assert.Equal(5, sets.Train.ClassCount);
        Assert.Equal(5, sets.Test.ClassCount);
    }

    [Fact]
    public void FolderWithOneSetIsSplit80To20()
    {
        Write("images-idx3-ubyte.gz", Idx([10, 1, 3], new byte[30]), true);
        Write("labels-idx1-ubyte.gz", Idx([10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), true);
        var sets = Datasets.FromIdxFolder(_dir);
        Assert.Equal(8, sets.Train.Count);
        Assert.Equal([8, 9], sets.Test.Labels);
    }

    [Fact]
    public void MismatchedCountsAreRejected()
    {
        Write("images-idx3-ubyte", Idx([3, 1, 1], new byte[3]), false);
        Write("labels-idx1-ubyte", Idx([2], [0, 1]), false);
        var e = Assert.Throws<InvalidDataException>(() => Datasets.FromIdxFolder(_dir));
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
    }

    [Fact]
    public void EmptyFolderSaysWhatItExpected()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Datasets.FromIdxFolder(_dir));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void ShippedMnist10kHas8000TrainAnd2000TestDigits()
    {
        var sets = Datasets.Mnist10k();
        Assert.Equal(8000, sets.Train.Count);
        Assert.Equal(2000, sets.Test.Count);
        Assert.Equal(784, sets.Train.FeatureCount);
        Assert.Equal(10, sets.Train.ClassCount);
        Assert.InRange(sets.Train.Features.Max(), 0.99f, 1f);
        Assert.Equal(0f, sets.Train.Features.Min());
        // every digit is present in both parts, roughly 10% each
        for (int d = 0; d < 10; d++)
        {
            Assert.InRange(sets.Train.Labels.Count(l => l == d), 600, 1000);
            Assert.InRange(sets.Test.Labels.Count(l => l == d), 150, 250);
        }
    }
}
