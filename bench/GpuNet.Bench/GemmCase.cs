namespace GpuNet.Bench;

/// <summary>
/// One GEMM shape: op(A) is M x K, op(B) is K x N; shown as "MxKxN" and the transpose form, e.g. "NT" for
/// C = A B^T. For a dense layer X (batch x in) W (in x out): forward Y = X W is NN, dX = dY W^T is NT,
/// dW = X^T dY is TN.
/// </summary>
public sealed record GemmCase(string Role, int M, int K, int N, bool TransA, bool TransB)
{
    /// <summary>2 M N K: one multiply and one add per term.</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>The MLP's layer 784 -> 128 at batch 64 and 256 (forward and both backward GEMMs), and cubes.</summary>
    public static IEnumerable<GemmCase> All =>
    [
        new("Y=XW", 64, 784, 128, false, false),
        new("dX=dYW^T", 64, 128, 784, false, true),
        new("dW=X^TdY", 784, 64, 128, true, false),
        new("Y=XW", 256, 784, 128, false, false),
        new("cube", 512, 512, 512, false, false),
        new("cube", 1024, 1024, 1024, false, false),
    ];

    /// <summary>Every GEMM of one training step of the wide 784-2048-2048-10 model at batch <paramref name="batch"/>.</summary>
    public static IEnumerable<GemmCase> Wide(int batch) =>
    [
        new("Y1=XW1", batch, 784, 2048, false, false),
        new("Y2=Y1W2", batch, 2048, 2048, false, false),
        new("Y3=Y2W3", batch, 2048, 10, false, false),
        new("dW3", 2048, batch, 10, true, false),
        new("dY2=dY3W3^T", batch, 10, 2048, false, true),
        new("dW2", 2048, batch, 2048, true, false),
        new("dY1=dY2W2^T", batch, 2048, 2048, false, true),
        new("dW1", 784, batch, 2048, true, false),
    ];

    // Short: BenchmarkDotNet cuts parameter values past 20 characters.
    public override string ToString() => $"{M}x{K}x{N} {(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')}";
}
