using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Bias and fill kernels: element-wise maps with no reduction across threads.</summary>
/// <remarks>Matrices are R x C, row-major: element (r, c) is at r * C + c.</remarks>
public static class ElementwiseKernels
{
    /// <summary>x[r, c] += bias[c], in place.</summary>
    /// <param name="index">Flat element index r * C + c; launch with extent R * C.</param>
    /// <param name="x">R x C matrix.</param>
    /// <param name="bias">C values.</param>
    /// <param name="cols">C.</param>
    public static void BiasAddKernel(Index1D index, FloatView x, FloatView bias, int cols) =>
        x[index] += bias[index % cols];

    /// <summary>result[c] = sum_r x[r, c] (+ result[c] when accumulate != 0): the bias gradient.</summary>
    /// <param name="col">Column c; launch with extent C.</param>
    /// <param name="x">R x C matrix.</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">C.</param>
    /// <param name="result">C sums.</param>
    /// <param name="accumulate">Non-zero: add to result instead of overwriting it.</param>
    /// <remarks>
    /// One thread per column summing down the rows in order: neighbouring threads read neighbouring
    /// addresses (coalesced), and the result is deterministic. Fine for the batch-sized R of training;
    /// a very tall, narrow matrix would want a split-R reduction.
    /// </remarks>
    public static void ColumnSumKernel(Index1D col, FloatView x, int rows, int cols, FloatView result, int accumulate)
    {
        float sum = 0f;
        for (int r = 0; r < rows; r++)
            sum += x[r * cols + col];
        result[col] = accumulate != 0 ? result[col] + sum : sum;
    }

    /// <summary>buffer[i] = value.</summary>
    /// <param name="index">Element index; launch with extent buffer length.</param>
    public static void FillFloatKernel(Index1D index, FloatView buffer, float value) => buffer[index] = value;

    /// <summary>buffer[i] = value.</summary>
    /// <param name="index">Element index; launch with extent buffer length.</param>
    public static void FillIntKernel(Index1D index, IntView buffer, int value) => buffer[index] = value;
}
