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
/// The device boundary: flat buffers with explicit dimensions and the handful of operations a
/// multi-layer perceptron needs to train. No graph, no broadcasting rules, no layer knowledge.
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
    void Fill(DeviceBuffer<float> buffer, float value);

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

    /// <summary>x[r, c] += bias[c] for an R x C matrix, in place.</summary>
    void BiasAdd(DeviceBuffer<float> x, DeviceBuffer<float> bias, int rows, int cols);

    /// <summary>result[c] = sum_r x[r, c] (+ result[c] when <paramref name="accumulate"/>): the bias gradient.</summary>
    void ColumnSum(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result, bool accumulate);

    // ---- activations ----------------------------------------------------------------------

    /// <summary>y = f(x) element-wise over the first <paramref name="count"/> elements. y may alias x.</summary>
    void Activation(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, int count);

    /// <summary>
    /// gradInput = gradOutput * f'(x) (added when <paramref name="accumulate"/>), element-wise.
    /// Backends use whichever of the pre-activation <paramref name="x"/> and the output <paramref name="y"/>
    /// is cheaper (sigmoid and tanh use y). Throws <see cref="NotSupportedException"/> for Step.
    /// </summary>
    void ActivationBackward(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y,
        DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int count, bool accumulate);

    /// <summary>Row-wise softmax of an R x C matrix, max-subtracted: y = exp(x - max) / sum exp(x - max).</summary>
    void Softmax(DeviceBuffer<float> x, DeviceBuffer<float> y, int rows, int cols);

    // ---- loss and metrics ------------------------------------------------------------------

    /// <summary>
    /// Fused softmax + sparse categorical cross-entropy on R x C logits with integer labels.
    /// </summary>
    /// <param name="logits">R x C pre-softmax scores.</param>
    /// <param name="labels">R class indices in [0, C).</param>
    /// <param name="probabilities">R x C softmax output, or null when not needed.</param>
    /// <param name="gradLogits">R x C gradient of (gradScale * total loss) w.r.t. the logits:
    /// gradScale * (p - onehot(label)); null for a forward-only (evaluation) pass.</param>
    /// <param name="gradScale">Usually 1 / R, the gradient of the batch mean.</param>
    /// <param name="lossSum">lossSum[0] += sum_r -log p[r, label_r] (accumulated, never reset here).</param>
    /// <remarks>
    /// -log p is computed as log(sum exp(x - max)) - (x_label - max), so it is finite even where p
    /// underflows to 0. A label outside [0, C) contributes NaN to the loss (no host check inside a step).
    /// </remarks>
    void SoftmaxCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<int> labels, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale,
        DeviceBuffer<float> lossSum);

    /// <summary>correct[0] += number of rows r whose argmax over scores[r, :] equals labels[r] (first max wins).</summary>
    void CountCorrect(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, int cols, DeviceBuffer<int> correct);

    /// <summary>result[r] = index of the largest of scores[r, :] (first max wins).</summary>
    void ArgMax(DeviceBuffer<float> scores, int rows, int cols, DeviceBuffer<int> result);

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

    // ---- optimization and initialization ---------------------------------------------------

    /// <summary>Plain SGD over the first <paramref name="count"/> elements: param -= learningRate * grad.</summary>
    void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float learningRate);

    /// <summary>
    /// Fills <paramref name="buffer"/> with uniform numbers in [low, high) from the counter-based
    /// <see cref="Philox"/> generator: element i uses counter (i, stream) and key seed, so every
    /// backend produces the same numbers (up to float rounding of the affine map).
    /// </summary>
    void RandomUniform(DeviceBuffer<float> buffer, float low, float high, ulong seed, uint stream);

    /// <summary>Fills <paramref name="buffer"/> with normal numbers N(mean, stddev^2) (Box-Muller on Philox uniforms).</summary>
    void RandomNormal(DeviceBuffer<float> buffer, float mean, float stddev, ulong seed, uint stream);
}
