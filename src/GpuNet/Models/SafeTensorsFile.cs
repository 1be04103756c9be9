using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuNet.Models;

/// <summary>One named float32 tensor of a <see cref="SafeTensorsFile"/>.</summary>
/// <param name="Shape">Dimensions, outermost first (row-major data).</param>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data)
{
    /// <summary>Elements implied by <see cref="Shape"/>.</summary>
    public long ElementCount => Shape.Aggregate(1L, (p, d) => p * d);
}

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>),
/// then the tensors' raw little-endian bytes. Files written here load in Python with
/// <c>safetensors.torch.load_file</c> or <c>safetensors.numpy.load_file</c>.
/// </summary>
/// <remarks>
/// Only F32 tensors are read and written (all GpuNet keeps). Reading turns anything a truncated, foreign or
/// hostile file could get wrong into an <see cref="InvalidDataException"/> that says what: the header length,
/// the JSON (including repeated keys and invalid UTF-8), dtypes, non-negative integer shapes whose element
/// count (computed without overflow) matches the byte range, and ranges that tile the data section exactly. Writing is atomic: a temporary file in the
/// same folder, flushed, then renamed over the destination, so an existing file is never left half-written.
/// The JSON is handled by System.Text.Json; no .NET safetensors package was available on NuGet.
/// </remarks>
public static class SafeTensorsFile
{
    /// <summary>The format's own cap on the header (100 MB), against hostile lengths.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Writes <paramref name="tensors"/> and string <paramref name="metadata"/> to <paramref name="path"/>, atomically.</summary>
    /// <exception cref="ArgumentException">Duplicate or empty tensor names, or a shape that does not match its data.</exception>
    /// <exception cref="IOException">The folder does not exist or the file cannot be written.</exception>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (key, value) in metadata) meta[key] = value;
            header[MetadataKey] = meta;
        }
        long offset = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (string.IsNullOrEmpty(t.Name) || t.Name == MetadataKey || !names.Add(t.Name))
                throw new ArgumentException($"Tensor name '{t.Name}' is empty, reserved or used twice; every tensor needs a unique name.", nameof(tensors));
            if (t.Shape.Any(d => d < 0) || t.ElementCount != t.Data.Length)
                throw new ArgumentException($"Tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}] but {t.Data.Length} values.", nameof(tensors));
            long bytes = 4L * t.Data.Length;
            header[t.Name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray([.. t.Shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the data section starts 8-byte aligned, as the reference writer does

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var t in tensors) WriteFloats(stream, t.Data);
        });
    }

    /// <summary>Reads every tensor and the metadata of a safetensors file.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file of F32 tensors; the message says what is wrong.</exception>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        if (Directory.Exists(path))
            throw new FileNotFoundException($"'{path}' is a folder; give the path of a model file inside it (e.g. {Path.Combine(path, "model.safetensors")}).", path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Model file '{path}' does not exist. Save one with Sequential.Save or `gpunet train --save PATH`.", path);
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary><see cref="Read"/> on bytes already in memory; <paramref name="source"/> names them in messages.</summary>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 8)
            throw new InvalidDataException($"'{source}' is {bytes.Length} bytes long: too short for a safetensors file (8-byte header length, JSON header, data). It may be truncated.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException(
                $"'{source}' declares a {headerLength}-byte header but the file has {bytes.Length - 8} bytes after the length: it is not a safetensors file, or it is truncated.");
        var headerBytes = bytes.Slice(8, (int)headerLength);
        var data = bytes[(8 + (int)headerLength)..];

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
        try
        {
            var header = JsonNode.Parse(headerBytes) as JsonObject
                ?? throw new InvalidDataException($"'{source}': the safetensors header is not a JSON object.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, node) in header)
            {
                if (!names.Add(name))
                    throw new InvalidDataException($"'{source}': the header names '{name}' twice.");
                if (name == MetadataKey)
                {
                    if (node is not JsonObject meta)
                        throw new InvalidDataException($"'{source}': __metadata__ must be an object of strings.");
                    foreach (var (key, value) in meta)
                        metadata[key] = value is JsonValue v && v.TryGetValue(out string? s)
                            ? s : throw new InvalidDataException($"'{source}': metadata '{key}' is not a string.");
                    continue;
                }
                entries.Add(ReadEntry(name, node, data.Length, source));
            }
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            // Malformed JSON, a key given twice inside an object, invalid UTF-8 in a string...
            throw new InvalidDataException($"'{source}': the safetensors header is not valid JSON ({e.Message}).", e);
        }

        // The byte ranges, in order, must tile the data section with no gap and no overlap.
        entries.Sort((x, y) => x.Begin.CompareTo(y.Begin));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin != expected)
                throw new InvalidDataException($"'{source}': tensor '{e.Name}' starts at byte {e.Begin} of the data, expected {expected} (a gap or an overlap).");
            expected = e.End;
        }
        if (expected != data.Length)
            throw new InvalidDataException(
                $"'{source}': the header describes {expected} bytes of tensor data but the file holds {data.Length}. The file is truncated or was modified.");

        var tensors = new List<NamedTensor>(entries.Count);
        foreach (var e in entries)
        {
            var values = new float[(e.End - e.Begin) / 4];
            var span = data[(int)e.Begin..(int)e.End];
            if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(span).CopyTo(values);
            else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]);
            tensors.Add(new NamedTensor(e.Name, e.Shape, values));
        }
        return (tensors, metadata);
    }

    private static (string, int[], long, long) ReadEntry(string name, JsonNode? node, int dataLength, string source)
    {
        string Where() => $"'{source}': tensor '{name}'";
        var o = node as JsonObject ?? throw new InvalidDataException($"{Where()}: its header entry is not an object.");
        string dtype = o["dtype"] is JsonValue dv && dv.TryGetValue(out string? d) ? d
            : throw new InvalidDataException($"{Where()} has no dtype string.");
        if (dtype != "F32")
            throw new InvalidDataException($"{Where()} has dtype {dtype}; GpuNet reads F32 tensors only. Convert it to float32 first.");
        if (o["shape"] is not JsonArray shapeArray)
            throw new InvalidDataException($"{Where()} has no shape array.");
        var shape = new int[shapeArray.Count];
        for (int i = 0; i < shape.Length; i++)
            if (shapeArray[i] is not JsonValue sv || !sv.TryGetValue(out shape[i]) || shape[i] < 0)
                throw new InvalidDataException($"{Where()}: shape entry {i} ({shapeArray[i]?.ToJsonString() ?? "null"}) is not an integer >= 0.");
        if (o["data_offsets"] is not JsonArray { Count: 2 } offsets
            || offsets[0] is not JsonValue bv || !bv.TryGetValue(out long begin)
            || offsets[1] is not JsonValue ev || !ev.TryGetValue(out long end))
            throw new InvalidDataException($"{Where()} needs data_offsets [begin, end] as two integers.");
        if (end > dataLength && end - begin == 4L * shape.Aggregate(1L, (p, d) => p > dataLength ? p : p * d))
            throw new InvalidDataException(
                $"{Where()} ends at byte {end} of the data, but the file holds only {dataLength} bytes of data: it is truncated.");
        // Multiply with a cap: the data section bounds every real tensor, so a larger product is an error, not an overflow.
        long elements = 1, cap = dataLength / 4;
        foreach (int dim in shape)
            elements = dim == 0 || elements == 0 ? 0 : elements > cap / dim ? cap + 1 : elements * dim;
        if (elements > cap || begin < 0 || end < begin || end - begin != 4 * elements)
            throw new InvalidDataException(
                $"{Where()} has shape [{string.Join(", ", shape)}] but data_offsets [{begin}, {end}] in a data section of {dataLength} bytes: they do not match.");
        return (name, shape, begin, end);
    }

    private static void WriteFloats(Stream stream, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        Span<byte> four = stackalloc byte[4];
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(four, v);
            stream.Write(four);
        }
    }
}
