using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Device-side batching: gathers rows or elements of a resident dataset by a shuffled index.</summary>
/// <remarks>
/// Kernels cannot throw, so an index outside the source writes a poison value instead of reading out of
/// bounds: NaN for gathered features and -1 for gathered labels, which the loss then reports as NaN.
/// </remarks>
public static class DataKernels
{
    /// <summary>destination[i, :] = source[indices[indexOffset + i], :].</summary>
    /// <param name="index">Flat destination index i * C + c; launch with extent count * C.</param>
    /// <param name="source">S x C dataset, S = sourceRows.</param>
    /// <param name="indices">Row indices; the batch reads indices[indexOffset .. indexOffset + count).</param>
    /// <param name="indexOffset">Where the batch starts in indices.</param>
    /// <param name="cols">C.</param>
    /// <param name="sourceRows">S, the number of valid source rows.</param>
    /// <param name="destination">count x C batch.</param>
    public static void GatherRowsKernel(Index1D index, FloatView source, IntView indices, int indexOffset, int cols,
        int sourceRows, FloatView destination)
    {
        int i = index / cols, c = index % cols;
        int row = indices[indexOffset + i];
        destination[index] = (uint)row < (uint)sourceRows ? source[row * cols + c] : float.NaN;
    }

    /// <summary>y[r, yOffset + c] (+)= x[r, xOffset + c]: a block of cols columns between rows of different widths.</summary>
    /// <param name="index">Flat block index r * cols + c; launch with extent rows * cols.</param>
    public static void CopyColumnsKernel(Index1D index, FloatView x, int xCols, int xOffset, FloatView y, int yCols, int yOffset, int cols, int accumulate)
    {
        int r = index / cols, c = index % cols;
        int at = r * yCols + yOffset + c;
        float value = x[r * xCols + xOffset + c];
        y[at] = accumulate != 0 ? y[at] + value : value;
    }

    /// <summary>destination[i] = source[indices[indexOffset + i]].</summary>
    /// <param name="index">i; launch with extent count.</param>
    /// <param name="source">The values (labels), sourceLength of them.</param>
    /// <param name="indices">Element indices; the batch reads indices[indexOffset .. indexOffset + count).</param>
    /// <param name="indexOffset">Where the batch starts in indices.</param>
    /// <param name="sourceLength">Number of valid source elements.</param>
    /// <param name="destination">count values.</param>
    public static void GatherKernel(Index1D index, IntView source, IntView indices, int indexOffset, int sourceLength,
        IntView destination)
    {
        int at = indices[indexOffset + index];
        destination[index] = (uint)at < (uint)sourceLength ? source[at] : -1;
    }
}
