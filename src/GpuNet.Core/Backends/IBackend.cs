namespace GpuNet.Backends;

/// <summary>What kind of device a backend computes on.</summary>
public enum DeviceKind
{
    /// <summary>The SIMD, multi-threaded <see cref="CpuBackend"/>.</summary>
    Cpu,
    /// <summary>ILGPU kernels on an NVIDIA GPU.</summary>
    Cuda,
    /// <summary>ILGPU kernels on ILGPU's CPU accelerator (simulated GPU threads: for tests, slow).</summary>
    IlgpuCpu,
}

/// <summary>
/// The device boundary: flat buffers with explicit dimensions. This file is the thin core, 19 primitives
/// a backend must implement: memory, GEMM, element-wise operations driven by operator structs, row and
/// column reductions, softmax, gathers and scatters. Everything else (losses with their gradients, batch
/// normalization, the optimizer rules, dropout, augmentation; IBackend.Fused.cs) is an optional capability
/// with a default implementation composed from these primitives (<see cref="ComposedOps"/>), which a
/// backend overrides only to be faster.
/// </summary>
/// <remarks>
/// <para>All matrices are dense and row-major. Dimension letters: M rows of the result, N its columns,
/// K the shared (reduced) dimension; B the batch (rows), C the classes or features (columns).</para>
/// <para>Operations are asynchronous on GPU backends: they are queued on one stream in call order and
/// nothing waits for them until <see cref="Download{T}"/> or <see cref="Synchronize"/>. A training step
/// is a sequence of such calls with no allocation and no host synchronization.</para>
/// <para>Where an operation takes <c>accumulate</c>, false overwrites the output and true adds to it
/// (the += of backpropagation when a tensor feeds several consumers).</para>
/// </remarks>
public partial interface IBackend : IDisposable
{
    /// <summary>A human-readable device name, e.g. "NVIDIA H100 80GB HBM3 (CUDA)".</summary>
    string Name { get; }

    /// <summary>The kind of device.</summary>
    DeviceKind Kind { get; }

    // ---- memory ---------------------------------------------------------------------------

    /// <summary>
    /// The memory buffers can take, in bytes: the device's memory on a GPU; for host-memory backends the memory
    /// available to the process (the GC's limit: physical memory or a container's limit). Models check against it
    /// before allocating, so that a model too large fails with the sizes rather than an OutOfMemoryException.
    /// </summary>
    long MemoryBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Allocates a zero-filled buffer of <paramref name="length"/> elements.</summary>
    DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged;

    /// <summary>Copies host data into <paramref name="destination"/> (lengths must match).</summary>
    void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination) where T : unmanaged;

    /// <summary>Copies a device buffer to host memory; waits for queued work first.</summary>
    void Download<T>(DeviceBuffer<T> source, Span<T> destination) where T : unmanaged;

    /// <summary>Device-to-device copy (lengths must match).</summary>
    void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination) where T : unmanaged;

    /// <summary>Sets every element of <paramref name="buffer"/> to <paramref name="value"/>.</summary>
    void Fill(DeviceBuffer<int> buffer, int value);

    /// <summary>Waits until all queued work has finished.</summary>
    void Synchronize();

    // ---- linear algebra -------------------------------------------------------------------

    /// <summary>C = alpha * op(A) * op(B) + beta * C.</summary>
    /// <param name="transA">op(A) = A^T: A is stored K x M instead of M x K.</param>
    /// <param name="transB">op(B) = B^T: B is stored N x K instead of K x N.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">M x K (or K x M when transposed), row-major.</param>
    /// <param name="b">K x N (or N x K when transposed), row-major.</param>
    /// <param name="beta">Scale of the existing C; 0 ignores C's contents (NaNs included).</param>
    /// <param name="c">M x N, row-major.</param>
    /// <remarks>Backprop uses all three forms: Y = X W, dX = dY W^T, dW = X^T dY.</remarks>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c);

    /// <summary>result[c] = sum_r x[r, c] (+ result[c] when <paramref name="accumulate"/>): the bias gradient.</summary>
    void ColumnSum(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result, bool accumulate);

    // ---- element-wise, driven by operator structs -----------------------------------------

    /// <summary>y[i] = op.At(i) for i in [0, count): constants and counter-based random draws.</summary>
    void Generate<TOp>(TOp op, DeviceBuffer<float> y, int count) where TOp : struct, IElementGenerator;

    /// <summary>y[i] = op.Apply(x[i]) (added to y[i] when <paramref name="accumulate"/>) for i in [0, count). y may alias x.</summary>
    void Map<TOp>(TOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count, bool accumulate = false)
        where TOp : struct, IUnaryOperator;

    /// <summary>
    /// y[r, c] = op.Apply(a[r, c], b at (r, c)) (added to y when <paramref name="accumulate"/>) over an R x C
    /// matrix, with b full, one row, one column or one value as <paramref name="broadcast"/> says. y may alias a, and b only
    /// with <see cref="Broadcast.None"/> (a broadcast b is read again after its element of y is written).
    /// </summary>
    void Zip<TOp>(TOp op, DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, int rows, int cols,
        Broadcast broadcast, bool accumulate) where TOp : struct, IBinaryOperator;

    /// <summary>total[0] += the number of i in [0, count) for which predicate.Test(a[i], b[i]) holds.</summary>
    void Count<TOp>(TOp predicate, DeviceBuffer<float> a, DeviceBuffer<float> b, int count, DeviceBuffer<int> total)
        where TOp : struct, IElementPredicate;

    // ---- rows ------------------------------------------------------------------------------

    /// <summary>Row-wise softmax of an R x C matrix, max-subtracted: y = exp(x - max) / sum exp(x - max).</summary>
    void Softmax(DeviceBuffer<float> x, DeviceBuffer<float> y, int rows, int cols);

    /// <summary>result[r] = index of the largest of scores[r, :] (first max wins).</summary>
    void ArgMax(DeviceBuffer<float> scores, int rows, int cols, DeviceBuffer<int> result);

    /// <summary>y[r] = x[r, indices[r]] for r in [0, rows) (R x C x): the labelled logit, the winning piece.
    /// An index outside [0, C) gives NaN.</summary>
    void TakeAlongRows(DeviceBuffer<float> x, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> y);

    /// <summary>x[r, indices[r]] += values[r] for r in [0, rows) (R x C x): the scatter of <see cref="TakeAlongRows"/>.
    /// An index outside [0, C) adds nothing.</summary>
    void PutAlongRows(DeviceBuffer<float> values, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> x);

    // ---- data movement ---------------------------------------------------------------------

    /// <summary>
    /// dst[i, :] = src[indices[indexOffset + i], :] for i in [0, count): assembles a batch on the device
    /// from a resident dataset and a shuffled index.
    /// </summary>
    void GatherRows(DeviceBuffer<float> source, DeviceBuffer<int> indices, int indexOffset, int count, int cols,
        DeviceBuffer<float> destination);

    /// <summary>
    /// y[r, yOffset + c] (+)= x[r, xOffset + c] for r in [0, rows), c in [0, cols), with rows of x <paramref name="xCols"/>
    /// and rows of y <paramref name="yCols"/> wide: a block of columns copied between matrices of different widths
    /// (concatenation forward, its split backward). Added to y when <paramref name="accumulate"/>.
    /// </summary>
    void CopyColumns(DeviceBuffer<float> x, int xCols, int xOffset, DeviceBuffer<float> y, int yCols, int yOffset, int rows, int cols, bool accumulate);

    /// <summary>dst[i] = src[indices[indexOffset + i]] for i in [0, count) (labels of a batch).</summary>
    void Gather(DeviceBuffer<int> source, DeviceBuffer<int> indices, int indexOffset, int count,
        DeviceBuffer<int> destination);
}
