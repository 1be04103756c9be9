using GpuNet.Data;

namespace GpuNet.Tests;

/// <summary>Small synthetic datasets shared by the model tests, and the in-process command line.</summary>
internal static class TestData
{
    /// <summary>Three Gaussian-like blobs in 6 dimensions: class c is shifted by 1.5 in features c and c + 3, with uniform noise in [-1, 1).</summary>
    public static Dataset Blobs(int rows, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * 6];
        var y = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            y[r] = r % 3;
            for (int c = 0; c < 6; c++) x[r * 6 + c] = (c % 3 == y[r] ? 1.5f : 0f) + (float)(rng.NextDouble() * 2 - 1);
        }
        return new Dataset("blobs", x, y, 6, 3);
    }

    /// <summary>An IDX file: header (magic 0x0000_type_dims, big-endian dims) followed by the data bytes.</summary>
    public static byte[] Idx(int[] dims, byte[] data, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    /// <summary>The workplace's shared/datasets/<paramref name="folder"/> above the test binaries when it holds every one of
    /// <paramref name="names"/>; null otherwise.</summary>
    public static string? SharedDataset(string folder, IEnumerable<string> names)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "datasets", folder);
            if (names.All(n => File.Exists(Path.Combine(candidate, n)))) return candidate;
        }
        return null;
    }

    /// <summary>Runs the gpunet command line in process; returns its exit code and what it wrote to each stream.</summary>
    public static (int Code, string Out, string Err) RunCli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Cli.Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
