using GpuNet.Backends;

namespace GpuNet.Initializers;

/// <summary>
/// Orthogonal initialization (Saxe et al. 2014): a fanIn x fanOut matrix with orthonormal columns
/// (W^T W = I when fanIn &gt;= fanOut) or orthonormal rows (W W^T = I otherwise), times <see cref="Gain"/>.
/// </summary>
/// <remarks>
/// Draws a Gaussian matrix on the device (Philox, so it is reproducible from the seed), then
/// orthonormalizes it on the host by modified Gram-Schmidt in double precision (initialization runs once,
/// outside the training step) and uploads the result.
/// </remarks>
public class Orthogonal(float gain = 1f) : Initializer
{
    public float Gain { get; } = gain > 0 && float.IsFinite(gain) ? gain : throw new ArgumentOutOfRangeException(nameof(gain), gain, $"gain must be positive; received gain={gain}.");

    public override void Initialize(IBackend backend, DeviceBuffer<float> value, int fanIn, int fanOut, ulong seed, uint stream)
    {
        if (fanIn * fanOut != value.Length) fanIn = value.Length / fanOut; // a bias row: 1 x fanOut
        backend.RandomNormal(value, 0f, 1f, seed, stream);
        var host = new float[value.Length];
        backend.Download(value, host);
        Orthonormalize(host, fanIn, fanOut);
        for (int i = 0; i < host.Length; i++) host[i] *= Gain;
        backend.Upload<float>(host, value);
    }

    /// <summary>
    /// Makes the rows x cols row-major matrix have orthonormal columns (rows &gt;= cols) or orthonormal rows.
    /// </summary>
    public static void Orthonormalize(float[] matrix, int rows, int cols)
    {
        bool byColumns = rows >= cols;
        int vectors = byColumns ? cols : rows, length = byColumns ? rows : cols;
        var v = new double[vectors][];
        for (int i = 0; i < vectors; i++)
        {
            v[i] = new double[length];
            for (int j = 0; j < length; j++) v[i][j] = byColumns ? matrix[j * cols + i] : matrix[i * cols + j];
        }
        for (int i = 0; i < vectors; i++)
        {
            for (int k = 0; k < i; k++)
            {
                double dot = 0;
                for (int j = 0; j < length; j++) dot += v[i][j] * v[k][j];
                for (int j = 0; j < length; j++) v[i][j] -= dot * v[k][j];
            }
            double norm = Math.Sqrt(v[i].Sum(x => x * x));
            if (norm < 1e-12) throw new InvalidOperationException("Orthogonal initialization drew a degenerate matrix; use another seed.");
            for (int j = 0; j < length; j++) v[i][j] /= norm;
        }
        for (int i = 0; i < vectors; i++)
            for (int j = 0; j < length; j++)
                matrix[byColumns ? j * cols + i : i * cols + j] = (float)v[i][j];
    }

    public override string ToString() => Gain == 1f ? "orthogonal" : $"orthogonal(gain={Gain})";
}

/// <summary>
/// Layer-sequential unit-variance initialization (Mishkin and Matas 2016): orthogonal weights, then,
/// layer by layer on a batch of training data, the weights are rescaled by 1/sqrt(Var(output)) until the
/// layer's pre-activation output variance is within <see cref="Tolerance"/> of 1.
/// </summary>
/// <remarks>
/// The rescaling needs data: <see cref="Models.Sequential.Fit"/> runs it on the first training batch
/// before the first epoch (or call <see cref="Models.Sequential.InitializeLsuv"/> yourself).
/// </remarks>
public sealed class Lsuv(float tolerance = 0.1f, int maxIterations = 10) : Orthogonal
{
    public float Tolerance { get; } = tolerance > 0 && tolerance < 1 ? tolerance : throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, $"tolerance must be in (0, 1); received {tolerance}. Mishkin and Matas use 0.1.");
    public int MaxIterations { get; } = maxIterations >= 1 ? maxIterations : throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, $"maxIterations must be positive; received {maxIterations}.");
    public override string ToString() => "lsuv";
}
