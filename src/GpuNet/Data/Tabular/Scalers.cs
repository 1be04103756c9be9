namespace GpuNet.Data.Tabular;

/// <summary>A per-column affine map x' = (x - Offset) * Scale, fitted on training rows and applied to any rows.</summary>
public abstract class Scaler
{
    /// <summary>Per-column offsets (after Fit).</summary>
    public float[] Offset { get; protected set; } = [];

    /// <summary>Per-column scales (after Fit).</summary>
    public float[] Scale { get; protected set; } = [];

    /// <summary>Learns the map from <paramref name="x"/>, rows x cols row-major (the training split only).</summary>
    public abstract Scaler Fit(ReadOnlySpan<float> x, int cols);

    /// <summary>Applies the learned map in place to rows x cols data.</summary>
    /// <exception cref="ArgumentException">The column count differs from the fitted one, or x is not whole rows.</exception>
    /// <exception cref="InvalidOperationException">The scaler has not been fitted.</exception>
    public void Transform(Span<float> x, int cols)
    {
        if (Offset.Length == 0)
            throw new InvalidOperationException("The scaler has not been fitted: call Fit on the training rows before Transform.");
        if (cols != Offset.Length)
            throw new ArgumentException($"The scaler was fitted on {Offset.Length} columns but is applied to {cols}. Fit it on data of the same shape.", nameof(cols));
        if (x.Length % cols != 0)
            throw new ArgumentException($"Expected rows x {cols} values; got {x.Length} values, which are not whole rows.", nameof(x));
        for (int i = 0; i < x.Length; i++) x[i] = (x[i] - Offset[i % cols]) * Scale[i % cols];
    }

    /// <summary>A fitted scaler of <paramref name="kind"/> with saved parameters.</summary>
    internal static Scaler Restore(ScalerKind kind, float[] offset, float[] scale)
    {
        if (offset.Length == 0 || offset.Length != scale.Length)
            throw new ArgumentException($"Saved scaler parameters must be non-empty and of equal length; got {offset.Length} offsets and {scale.Length} scales.");
        Scaler s = kind == ScalerKind.MinMax ? new MinMaxScaler() : new StandardScaler();
        s.Offset = offset;
        s.Scale = scale;
        return s;
    }

    protected static void CheckShape(ReadOnlySpan<float> x, int cols)
    {
        if (cols < 1 || x.Length % cols != 0 || x.Length == 0)
            throw new ArgumentException($"Expected a non-empty rows x {cols} matrix; got {x.Length} values.", nameof(x));
    }
}

/// <summary>Maps each column's training [min, max] to [0, 1]: x' = (x - min) / (max - min). A constant column maps to 0.</summary>
public sealed class MinMaxScaler : Scaler
{
    public override Scaler Fit(ReadOnlySpan<float> x, int cols)
    {
        CheckShape(x, cols);
        var min = Enumerable.Repeat(float.PositiveInfinity, cols).ToArray();
        var max = Enumerable.Repeat(float.NegativeInfinity, cols).ToArray();
        for (int i = 0; i < x.Length; i++)
        {
            min[i % cols] = MathF.Min(min[i % cols], x[i]);
            max[i % cols] = MathF.Max(max[i % cols], x[i]);
        }
        Offset = min;
        Scale = [.. min.Zip(max, (lo, hi) => hi > lo ? 1f / (hi - lo) : 0f)];
        return this;
    }
}

/// <summary>Standardizes each column to mean 0 and variance 1 on the training rows: x' = (x - mean) / std
/// (population std, as scikit-learn). A constant column maps to 0.</summary>
public sealed class StandardScaler : Scaler
{
    public override Scaler Fit(ReadOnlySpan<float> x, int cols)
    {
        CheckShape(x, cols);
        int rows = x.Length / cols;
        var mean = new double[cols];
        var sq = new double[cols];
        for (int i = 0; i < x.Length; i++) mean[i % cols] += x[i];
        for (int c = 0; c < cols; c++) mean[c] /= rows;
        for (int i = 0; i < x.Length; i++) { double d = x[i] - mean[i % cols]; sq[i % cols] += d * d; }
        Offset = [.. mean.Select(m => (float)m)];
        Scale = [.. sq.Select(s => s > 0 ? (float)(1 / Math.Sqrt(s / rows)) : 0f)];
        return this;
    }
}

/// <summary>Train/test splits.</summary>
public static class Splits
{
    /// <summary>A random split of <paramref name="rows"/> rows (for regression targets, which have no classes to stratify by); each part in ascending order.</summary>
    public static (int[] Train, int[] Test) RandomTrainTest(int rows, double testFraction, int seed)
    {
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in (0, 1), e.g. 0.2.");
        var order = Enumerable.Range(0, rows).ToArray();
        new Random(seed).Shuffle(order);
        int n = (int)Math.Round(rows * testFraction);
        if (n == 0 || n == rows)
            throw new ArgumentException($"Splitting {rows} samples with test fraction {testFraction} leaves an empty part.", nameof(rows));
        var test = order[..n];
        var train = order[n..];
        Array.Sort(test);
        Array.Sort(train);
        return (train, test);
    }

    /// <summary>
    /// A stratified split: each class contributes round(testFraction * its count) samples to the test
    /// set, chosen at random with <paramref name="seed"/>, so both parts keep the class proportions.
    /// Returns row indices, each part in ascending order.
    /// </summary>
    public static (int[] Train, int[] Test) StratifiedTrainTest(ReadOnlySpan<int> labels, double testFraction, int seed)
    {
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in (0, 1), e.g. 0.2.");
        var rng = new Random(seed);
        var train = new List<int>();
        var test = new List<int>();
        var byClass = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (!byClass.TryGetValue(labels[i], out var list)) byClass[labels[i]] = list = [];
            list.Add(i);
        }
        foreach (var rows in byClass.Values)
        {
            var shuffled = rows.ToArray();
            rng.Shuffle(shuffled);
            int n = (int)Math.Round(rows.Count * testFraction);
            test.AddRange(shuffled[..n]);
            train.AddRange(shuffled[n..]);
        }
        if (train.Count == 0 || test.Count == 0)
            throw new ArgumentException($"Splitting {labels.Length} samples with test fraction {testFraction} leaves an empty part.", nameof(labels));
        train.Sort();
        test.Sort();
        return ([.. train], [.. test]);
    }
}
