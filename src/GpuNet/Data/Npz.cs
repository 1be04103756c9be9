using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Razorvine.Pickle;

namespace GpuNet.Data;

/// <summary>
/// Reads NumPy's <c>.npz</c> archives (a zip of <c>.npy</c> arrays): 1-D integer arrays, and object arrays whose
/// elements are lists of integers, as Keras' <c>imdb.npz</c> stores its reviews. An object array is a pickle
/// (<c>np.load(..., allow_pickle=True)</c>); it is read by Razorvine.Pickle, which runs no code from the file, with
/// constructors for NumPy's array and dtype only.
/// </summary>
public static partial class Npz
{
    /// <summary>The names of the arrays in an archive (without ".npy").</summary>
    /// <exception cref="InvalidDataException">The file is not a zip archive.</exception>
    public static IReadOnlyList<string> Names(string path)
    {
        using var zip = Open(path);
        return [.. zip.Entries.Select(e => e.FullName).Where(n => n.EndsWith(".npy", StringComparison.Ordinal)).Select(n => n[..^4])];
    }

    /// <summary>A 1-D array of integers (any NumPy integer or boolean type) as 64-bit values.</summary>
    /// <exception cref="InvalidDataException">The array is missing, not 1-D, or not of integers; the message names the file and array.</exception>
    public static long[] ReadIntegers(string path, string name)
    {
        using var zip = Open(path);
        var (header, body) = ReadEntry(zip, path, name);
        if (header.Shape.Length != 1)
            throw Bad(path, name, $"has shape ({string.Join(", ", header.Shape)}); expected a 1-D array");
        int n = header.Shape[0];
        int size = header.Descr[2..] is var bytes && int.TryParse(bytes, CultureInfo.InvariantCulture, out int s) ? s : 0;
        char kind = header.Descr[1];
        if (kind is not ('i' or 'u' or 'b') || size is not (1 or 2 or 4 or 8))
            throw Bad(path, name, $"holds '{header.Descr}' values; expected integers (e.g. '<i8')");
        if (body.Length < (long)n * size)
            throw Bad(path, name, $"is cut short: {body.Length:N0} bytes for {n:N0} values of {size} bytes");
        bool big = header.Descr[0] == '>';
        var values = new long[n];
        for (int i = 0; i < n; i++)
        {
            var v = body.AsSpan(i * size, size);
            values[i] = (kind, size) switch
            {
                ('u' or 'b', 1) => v[0],
                ('i', 1) => (sbyte)v[0],
                ('u', 2) => big ? BinaryPrimitives.ReadUInt16BigEndian(v) : BinaryPrimitives.ReadUInt16LittleEndian(v),
                ('i', 2) => big ? BinaryPrimitives.ReadInt16BigEndian(v) : BinaryPrimitives.ReadInt16LittleEndian(v),
                ('u', 4) => big ? BinaryPrimitives.ReadUInt32BigEndian(v) : BinaryPrimitives.ReadUInt32LittleEndian(v),
                ('i', 4) => big ? BinaryPrimitives.ReadInt32BigEndian(v) : BinaryPrimitives.ReadInt32LittleEndian(v),
                (_, 8) => big ? BinaryPrimitives.ReadInt64BigEndian(v) : BinaryPrimitives.ReadInt64LittleEndian(v),
                _ => throw Bad(path, name, $"holds '{header.Descr}' values, which are not supported"),
            };
        }
        return values;
    }

    /// <summary>A 1-D object array whose elements are lists of integers (Keras' sequences), one int[] per element.</summary>
    /// <exception cref="InvalidDataException">The array is missing, not an object array of integer lists, or damaged.</exception>
    public static int[][] ReadSequences(string path, string name)
    {
        using var zip = Open(path);
        var (header, body) = ReadEntry(zip, path, name);
        if (header.Descr != "|O")
            throw Bad(path, name, $"holds '{header.Descr}' values; expected an object array of integer lists ('|O')");
        object result;
        try
        {
            using var unpickler = new Unpickler();
            result = unpickler.loads(body);
        }
        catch (Exception e) when (e is PickleException or InvalidCastException or IndexOutOfRangeException or ArgumentException
                                   or InvalidOperationException or NullReferenceException or OverflowException or IOException
                                   or FormatException) // FormatException: found by the reader fuzz test (a damaged integer opcode)
        {
            throw Bad(path, name, $"could not be unpickled ({e.GetType().Name}: {e.Message})", e);
        }
        if (result is not PickledArray { Items: { } items })
            throw Bad(path, name, $"unpickled to {result?.GetType().Name ?? "null"}; expected a NumPy object array");
        var sequences = new int[items.Count][];
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is not IList list)
                throw Bad(path, name, $"element {i} is {items[i]?.GetType().Name ?? "None"}; expected a list of integers");
            var seq = new int[list.Count];
            for (int j = 0; j < seq.Length; j++)
                seq[j] = list[j] switch
                {
                    int v => v,
                    long v and >= int.MinValue and <= int.MaxValue => (int)v,
                    var other => throw Bad(path, name, $"element {i}, item {j} is {other ?? "None"}; expected a 32-bit integer"),
                };
            sequences[i] = seq;
        }
        return sequences;
    }

    private sealed record Header(string Descr, int[] Shape);

    private static ZipArchive Open(string path)
    {
        var stream = File.OpenRead(path);
        try { return new ZipArchive(stream, ZipArchiveMode.Read); }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            throw new InvalidDataException($"'{path}' is not a NumPy .npz archive (a zip file): {e.Message}", e);
        }
    }

    private static (Header Header, byte[] Body) ReadEntry(ZipArchive zip, string path, string name)
    {
        var entry = zip.GetEntry(name + ".npy")
            ?? throw new InvalidDataException($"'{path}' has no array '{name}'; it holds {string.Join(", ", zip.Entries.Select(e => e.FullName))}.");
        if (entry.Length > int.MaxValue)
            throw Bad(path, name, $"is {entry.Length:N0} bytes, more than one array can hold here");
        var bytes = new byte[entry.Length];
        using (var s = entry.Open()) s.ReadExactly(bytes);
        // magic, version, header length (2 bytes in version 1, 4 in 2 and 3), then a Python dict literal
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw Bad(path, name, "does not start with NumPy's magic bytes (\\x93NUMPY)");
        int major = bytes[6];
        int lengthSize = major == 1 ? 2 : 4;
        if (major is < 1 or > 3 || bytes.Length < 8 + lengthSize) throw Bad(path, name, $"has .npy format version {major}; expected 1, 2 or 3");
        long headerLength = lengthSize == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        long start = 8 + lengthSize + headerLength;
        if (start > bytes.Length) throw Bad(path, name, "has a header longer than the file");
        string text = Encoding.Latin1.GetString(bytes, 8 + lengthSize, (int)headerLength);
        var descr = DescrPattern().Match(text);
        var shape = ShapePattern().Match(text);
        if (!descr.Success || !shape.Success) throw Bad(path, name, $"has a header NumPy would not write: {text.Trim()}");
        if (FortranPattern().IsMatch(text)) throw Bad(path, name, "is stored in Fortran order; save it with np.ascontiguousarray first");
        int[] dims;
        try
        {
            dims = [.. shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(d => int.Parse(d, NumberStyles.None, CultureInfo.InvariantCulture))];
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw Bad(path, name, $"has a shape NumPy would not write: ({shape.Groups[1].Value})", e);
        }
        return (new Header(descr.Groups[1].Value, dims), bytes[(int)start..]);
    }

    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][A-Za-z]\d*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*True")]
    private static partial Regex FortranPattern();

    private static InvalidDataException Bad(string path, string name, string what, Exception? inner = null) =>
        new($"Array '{name}' of '{path}' {what}.", inner);

    static Npz()
    {
        // numpy < 2 pickles arrays through numpy.core.multiarray, numpy 2 through numpy._core.multiarray
        foreach (var module in new[] { "numpy.core.multiarray", "numpy._core.multiarray" })
            Unpickler.registerConstructor(module, "_reconstruct", new Constructor(_ => new PickledArray()));
        Unpickler.registerConstructor("numpy", "dtype", new Constructor(args => new PickledDtype(args.Length > 0 ? args[0] as string : null)));
        Unpickler.registerConstructor("numpy", "ndarray", new Constructor(_ => new PickledArray()));
    }

    private sealed class Constructor(Func<object[], object> make) : IObjectConstructor
    {
        public object construct(object[] args) => make(args);
    }

    /// <summary>What <c>numpy.dtype(...)</c> unpickles to; only its name is kept.</summary>
    private sealed class PickledDtype(string? name)
    {
        public string? Name { get; } = name;

        // Razorvine calls the pickle's BUILD state on this method by name.
        public void __setstate__(object[] state) { }
    }

    /// <summary>What <c>_reconstruct(ndarray, ...)</c> unpickles to: BUILD gives (version, shape, dtype, fortran, items).</summary>
    private sealed class PickledArray
    {
        public IList? Items { get; private set; }

        public void __setstate__(object[] state)
        {
            if (state.Length == 5 && state[2] is PickledDtype { Name: "O8" or "O4" } && state[4] is IList items) Items = items;
            else throw new InvalidDataException("the pickled array is not an object array (dtype 'O') with its items listed");
        }
    }
}
