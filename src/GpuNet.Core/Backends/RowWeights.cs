namespace GpuNet.Backends;

/// <summary>
/// The checks every backend makes on the row weights of a fused operation (a 2 x R matrix: the loss weights, then the
/// gradient weights; see the remarks of IBackend.Fused.cs), so each throws the same error for the same mistake.
/// </summary>
public static class RowWeights
{
    /// <summary>Checks that <paramref name="weights"/>, when given, holds 2 x <paramref name="rows"/> values.</summary>
    /// <exception cref="ArgumentException">The buffer is shorter.</exception>
    public static void Require(DeviceBuffer<float>? weights, int rows)
    {
        if (weights is not null && weights.Length < 2L * rows)
            throw new ArgumentException(
                $"The row weights have {weights.Length} values; {rows} rows need {2L * rows} (the loss weights, then the gradient weights).",
                "rowWeights");
    }

    /// <summary>
    /// The rows of an element-wise operation over <paramref name="count"/> elements, <paramref name="width"/> to a row, after
    /// checking the weights hold 2 x that many values; 0 when <paramref name="weights"/> is null (nothing to check).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> is below 1 or does not divide <paramref name="count"/>.</exception>
    /// <exception cref="ArgumentException">The buffer is shorter.</exception>
    public static int RowsOf(DeviceBuffer<float>? weights, int count, int width)
    {
        if (weights is null) return 0;
        if (width < 1 || count % width != 0)
            throw new ArgumentOutOfRangeException(nameof(width), width,
                $"Row weights need whole rows: width={width} must be at least 1 and divide count={count}.");
        int rows = count / width;
        Require(weights, rows);
        return rows;
    }
}
