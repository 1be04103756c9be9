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
/// Only F32 tensors are read and written (all GpuNet keeps). Reading validates everything a truncated or
/// foreign file could get wrong: the header length, the JSON, dtypes, that each shape matches its byte
/// range, and that the ranges tile the data section exactly. Writing is atomic: a temporary file in the
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

        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot save to '{path}': the folder '{folder}' does not exist. Create it first or choose another path.");
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
                stream.Write(length);
                stream.Write(json);
                for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
                foreach (var t in tensors) WriteFloats(stream, t.Data);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Reads every tensor and the metadata of a safetensors file.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file of F32 tensors; the message says what is wrong.</exception>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
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

        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes) as JsonObject
                ?? throw new InvalidDataException($"'{source}': the safetensors header is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{source}': the safetensors header is not valid JSON ({e.Message}).", e);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey)
            {
                if (node is not JsonObject meta)
                    throw new InvalidDataException($"'{source}': __metadata__ must be an object of strings.");
                foreach (var (key, value) in meta)
                    metadata[key] = value is JsonValue v && v.TryGetValue(out string? s)
                        ? s : throw new InvalidDataException($"'{source}': metadata '{key}' is not a string.");
                continue;
            }
            entries.Add(ReadEntry(name, node, source));
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

    private static (string, int[], long, long) ReadEntry(string name, JsonNode? node, string source)
    {
        try
        {
            var o = node as JsonObject ?? throw new InvalidDataException($"'{source}': the entry of tensor '{name}' is not an object.");
            string dtype = o["dtype"]?.GetValue<string>() ?? throw new InvalidDataException($"'{source}': tensor '{name}' has no dtype.");
            if (dtype != "F32")
                throw new InvalidDataException($"'{source}': tensor '{name}' has dtype {dtype}; GpuNet reads F32 tensors only. Convert it to float32 first.");
            var shape = (o["shape"] as JsonArray ?? throw new InvalidDataException($"'{source}': tensor '{name}' has no shape."))
                .Select(d => d!.GetValue<int>()).ToArray();
            var offsets = o["data_offsets"] as JsonArray;
            if (offsets is not { Count: 2 })
                throw new InvalidDataException($"'{source}': tensor '{name}' needs data_offsets [begin, end].");
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            long elements = shape.Aggregate(1L, (p, d) => d < 0 ? -1 : p * d);
            if (elements < 0 || begin < 0 || end < begin || end - begin != 4 * elements)
                throw new InvalidDataException(
                    $"'{source}': tensor '{name}' has shape [{string.Join(", ", shape)}] ({elements} floats, {4 * elements} bytes) but data_offsets [{begin}, {end}].");
            return (name, shape, begin, end);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"'{source}': the header entry of tensor '{name}' is malformed ({e.Message}).", e);
        }
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
