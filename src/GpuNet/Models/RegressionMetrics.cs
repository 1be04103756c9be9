namespace GpuNet.Models;

/// <summary>
/// How far predicted numbers are from the actual ones, in the target's units: mean squared error, its root,
/// mean absolute error, and R² = 1 - SSE / SST (1 is perfect, 0 is no better than predicting the mean; for a
/// constant target, 1 if predicted exactly and 0 otherwise, as scikit-learn's r2_score).
/// </summary>
public sealed record RegressionMetrics(double Mse, double Mae, double R2, int Samples)
{
    public double Rmse => Math.Sqrt(Mse);

    /// <exception cref="ArgumentException">The arrays differ in length or are empty.</exception>
    public static RegressionMetrics Of(ReadOnlySpan<float> predicted, ReadOnlySpan<float> actual)
    {
        if (predicted.Length != actual.Length || actual.Length == 0)
            throw new ArgumentException($"{predicted.Length} predictions for {actual.Length} actual values: give one per value (and at least one).", nameof(predicted));
        double mean = 0;
        foreach (float a in actual) mean += a;
        mean /= actual.Length;
        double sse = 0, sst = 0, abs = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = predicted[i] - (double)actual[i];
            sse += e * e;
            abs += Math.Abs(e);
            sst += (actual[i] - mean) * (actual[i] - mean);
        }
        // a constant target (or one row): 1 when predicted exactly, else 0, as scikit-learn's r2_score (force_finite)
        double r2 = sst > 0 ? 1 - sse / sst : sse == 0 ? 1 : 0;
        return new RegressionMetrics(sse / actual.Length, abs / actual.Length, r2, actual.Length);
    }

    public override string ToString() =>
        FormattableString.Invariant($"RMSE {Rmse:G5} - MAE {Mae:G5} - R² {R2:F4} ({Samples:N0} samples)");
}
