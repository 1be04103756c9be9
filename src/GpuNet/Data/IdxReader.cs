using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuNet.Data;

/// <summary>The contents of an IDX file: its dimensions and its unsigned-byte data.</summary>
/// <param name="Dimensions">Item count first (e.g. [60000, 28, 28] for images, [60000] for labels).</param>
/// <param name="Data">Product(Dimensions) bytes, row-major.</param>
public sealed record IdxData(int[] Dimensions, byte[] Data)
{
    /// <summary>Number of items (the first dimension).</summary>
    public int Count => Dimensions[0];

    /// <summary>Bytes per item (product of the remaining dimensions).</summary>
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, d) => a * d);
}

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected from the content).
/// </summary>
/// <remarks>
/// Layout: a 4-byte magic number, 0x00000801 for labels (1 dimension) or 0x00000803 for images
/// (3 dimensions): two zero bytes, the element type (0x08 = unsigned byte, the only type supported
/// here) and the number of dimensions; then one big-endian int32 per dimension; then the data. Every field is validated and a truncated or oversized file is rejected.
/// </remarks>
public static class IdxReader
{
    private const int MaxDimensions = 4;

    /// <summary>Reads and validates an IDX file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The content is not a valid unsigned-byte IDX file.</exception>
    public static IdxData Read(string path, int? expectedDimensions = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        using var file = File.OpenRead(path);
        return Read(file, path, expectedDimensions);
    }

    /// <summary>Reads and validates IDX content from a stream (gzip or raw); <paramref name="name"/> is used in messages.</summary>
    public static IdxData Read(Stream stream, string name, int? expectedDimensions = null)
    {
        using var buffered = new BufferedStream(stream, 1 << 16);
        Stream input = buffered;
        Span<byte> peek = stackalloc byte[2];
        int peeked = ReadUpTo(buffered, peek);
        bool gzip = peeked == 2 && peek[0] == 0x1F && peek[1] == 0x8B;
        // Re-assemble the stream after peeking: the two bytes belong to the content either way.
        var head = new MemoryStream(peek[..peeked].ToArray());
        input = new ConcatStream(head, buffered);
        if (gzip) input = new GZipStream(input, CompressionMode.Decompress);
        try
        {
            return ReadCore(input, name, expectedDimensions);
        }
        catch (InvalidDataException e) when (gzip && !e.Message.StartsWith("IDX", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"IDX file '{name}' is not a valid gzip stream ({e.Message}). Download it again.", e);
        }
    }

    private static IdxData ReadCore(Stream input, string name, int? expectedDimensions)
    {
        Span<byte> header = stackalloc byte[4];
        if (ReadUpTo(input, header) < 4)
            throw new InvalidDataException($"IDX file '{name}' is truncated: it has fewer than the 4 bytes of the magic number.");
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException(
                $"IDX file '{name}' does not start with an IDX magic number (got 0x{BinaryPrimitives.ReadUInt32BigEndian(header):X8}, " +
                "expected 0x00000801 for labels or 0x00000803 for images). Is it an MNIST-format file?");
        if (header[2] != 0x08)
            throw new InvalidDataException(
                $"IDX file '{name}' stores element type 0x{header[2]:X2}; only unsigned bytes (0x08) are supported.");
        int dims = header[3];
        if (dims < 1 || dims > MaxDimensions)
            throw new InvalidDataException($"IDX file '{name}' declares {dims} dimensions; expected 1 to {MaxDimensions}.");
        if (expectedDimensions is int want && dims != want)
            throw new InvalidDataException(
                $"IDX file '{name}' has {dims} dimension(s) (magic 0x{BinaryPrimitives.ReadUInt32BigEndian(header):X8}); expected {want} " +
                $"({(want == 1 ? "a labels file, magic 0x00000801" : "an images file, magic 0x00000803")}). Were the images and labels files swapped?");

        var shape = new int[dims];
        Span<byte> word = stackalloc byte[4];
        long total = 1;
        for (int i = 0; i < dims; i++)
        {
            if (ReadUpTo(input, word) < 4)
                throw new InvalidDataException($"IDX file '{name}' is truncated inside its header (dimension {i + 1} of {dims}).");
            int d = BinaryPrimitives.ReadInt32BigEndian(word);
            if (d < 0 || (i > 0 && d == 0))
                throw new InvalidDataException($"IDX file '{name}' declares dimension {i + 1} = {d}; dimensions must be positive.");
            shape[i] = d;
            total *= d;
            if (total > Array.MaxLength)
                throw new InvalidDataException($"IDX file '{name}' declares {string.Join(" x ", shape[..(i + 1)])} elements, more than fit in memory.");
        }

        var data = new byte[total];
        int read = ReadUpTo(input, data);
        if (read < total)
            throw new InvalidDataException(
                $"IDX file '{name}' is truncated: its header declares {string.Join(" x ", shape)} = {total} bytes of data, but only {read} follow. Download it again.");
        if (input.ReadByte() != -1)
            throw new InvalidDataException(
                $"IDX file '{name}' has more data than its header declares ({string.Join(" x ", shape)} = {total} bytes).");
        return new IdxData(shape, data);
    }

    private static int ReadUpTo(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Two streams read one after the other (a peeked header, then the rest).</summary>
    private sealed class ConcatStream(Stream first, Stream second) : Stream
    {
        private bool _firstDone;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (!_firstDone)
            {
                int n = first.Read(buffer);
                if (n > 0) return n;
                _firstDone = true;
            }
            return second.Read(buffer);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
