namespace GpuNet.Data.Tabular;

/// <summary>How <see cref="SimpleImputer"/> fills missing values.</summary>
public enum ImputeStrategy
{
    /// <summary>The mean of the present values (numeric columns).</summary>
    Mean,
    /// <summary>The median of the present values (numeric columns): robust to outliers.</summary>
    Median,
    /// <summary>The most frequent present value, ties broken by the smallest (numbers) or ordinal order (text).</summary>
    MostFrequent,
    /// <summary>A fixed value given by the caller.</summary>
    Constant,
}

/// <summary>
/// Fills missing values of one column with a statistic learned from the training rows only
/// (as scikit-learn's SimpleImputer), so nothing of the test rows leaks into training.
/// </summary>
public sealed class SimpleImputer
{
    public SimpleImputer(ImputeStrategy strategy, double constantNumber = 0, string constantCategory = "missing")
    {
        Strategy = strategy;
        ConstantNumber = constantNumber;
        ConstantCategory = constantCategory;
    }

    public ImputeStrategy Strategy { get; }
    public double ConstantNumber { get; }
    public string ConstantCategory { get; }

    /// <summary>The fill value of a numeric column (after Fit).</summary>
    public double NumberFill { get; private set; } = double.NaN;

    /// <summary>The fill value of a categorical column (after Fit).</summary>
    public string? CategoryFill { get; private set; }

    /// <summary>Learns the fill value from <paramref name="rows"/> of <paramref name="column"/>.</summary>
    /// <exception cref="ArgumentException">Mean/median on a categorical column, or no present value to learn from.</exception>
    public SimpleImputer Fit(TableColumn column, ReadOnlySpan<int> rows)
    {
        if (column.Kind == ColumnKind.Numeric)
        {
            var present = new List<double>(rows.Length);
            foreach (int r in rows)
                if (!double.IsNaN(column.Numbers![r])) present.Add(column.Numbers[r]);
            if (present.Count == 0 && Strategy != ImputeStrategy.Constant)
                throw new ArgumentException($"Column '{column.Name}' has no values in the training rows to compute a {Strategy} from. Use ImputeStrategy.Constant.");
            present.Sort();
            NumberFill = Strategy switch
            {
                ImputeStrategy.Mean => present.Average(),
                ImputeStrategy.Median => present.Count % 2 == 1 ? present[present.Count / 2]
                    : 0.5 * (present[present.Count / 2 - 1] + present[present.Count / 2]),
                ImputeStrategy.MostFrequent => present.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key,
                _ => ConstantNumber,
            };
        }
        else
        {
            if (Strategy is ImputeStrategy.Mean or ImputeStrategy.Median)
                throw new ArgumentException(
                    $"Column '{column.Name}' is categorical: a {Strategy.ToString().ToLowerInvariant()} is not defined. Use MostFrequent or Constant.");
            var present = new List<string>(rows.Length);
            foreach (int r in rows)
                if (column.Categories![r] is string s) present.Add(s);
            CategoryFill = Strategy == ImputeStrategy.Constant || present.Count == 0 ? ConstantCategory
                : present.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        }
        return this;
    }

    /// <summary>Sets fitted fill values (a saved preprocessor).</summary>
    internal SimpleImputer Restore(double numberFill, string? categoryFill)
    {
        NumberFill = numberFill;
        CategoryFill = categoryFill;
        return this;
    }

    /// <summary>The value of row <paramref name="row"/>, or the fill value where it is missing.</summary>
    public double Number(TableColumn column, int row) =>
        double.IsNaN(column.Numbers![row]) ? NumberFill : column.Numbers[row];

    /// <summary>The category of row <paramref name="row"/>, or the fill value where it is missing.</summary>
    public string Category(TableColumn column, int row) => column.Categories![row] ?? CategoryFill!;
}
