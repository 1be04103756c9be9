using System.Text.Json;
using System.Text.Json.Nodes;
namespace GpuNet.Data.Tabular;

/// <summary>How categorical feature columns become numbers.</summary>
public enum CategoricalEncoding
{
    /// <summary>One 0/1 column per category (no order implied): the default.</summary>
    OneHot,
    /// <summary>One column holding the category's index 0..K-1 (implies an order: fine for ordinal data such as a class "1st, 2nd, 3rd").</summary>
    Label,
}

/// <summary>What the target column is predicted as.</summary>
public enum TabularTask
{
    /// <summary>Classes: the target's values label-encoded into class indices.</summary>
    Classification,
    /// <summary>A number: the target standardized with its training mean and standard deviation (mean squared error on it).</summary>
    Regression,
    /// <summary>
    /// Several labels at once: the target names several comma-separated columns ("action,comedy,drama"), each holding two
    /// values (0/1, no/yes, false/true); every row gets a 0/1 value per column (the second value in ordinal order is 1),
    /// for one sigmoid output per label with binary cross-entropy.
    /// </summary>
    MultiLabel,
}

/// <summary>Which scaler <see cref="TabularPreprocessor"/> fits on the numeric features.</summary>
public enum ScalerKind
{
    None,
    MinMax,
    Standard,
}

/// <summary>
/// Turns a <see cref="CsvTable"/> into a <see cref="Dataset"/>: the target column label-encoded into
/// class indices (or, for <see cref="TabularTask.Regression"/>, standardized); numeric features imputed then scaled; categorical features imputed then one-hot or
/// label encoded. Every statistic (fill values, categories, scaling) is fitted on the training rows only
/// and then applied unchanged to validation and test rows.
/// </summary>
public sealed class TabularPreprocessor
{
    private readonly List<(FittedColumn Column, SimpleImputer Imputer, LabelEncoder? Encoder)> _features = [];

    /// <summary>What Transform needs of a fitted feature column: its name and kind.</summary>
    private readonly record struct FittedColumn(string Name, ColumnKind Kind);
    private Scaler? _scaler;
    private readonly LabelEncoder _target = new();
    /// <summary>Multi-label: one two-value encoder per label column, in <see cref="Targets"/>' order.</summary>
    private LabelEncoder[] _labels = [];
    private int[] _scaledColumns = [];

    /// <param name="target">The label column; for <see cref="TabularTask.MultiLabel"/>, the label columns separated by commas.</param>
    /// <param name="features">Feature columns; null for every column except the target and free-text columns
    /// (categorical columns with more distinct values than half the rows, such as names).</param>
    public TabularPreprocessor(string target, IReadOnlyList<string>? features = null,
        ImputeStrategy numericImpute = ImputeStrategy.Median, ImputeStrategy categoricalImpute = ImputeStrategy.MostFrequent,
        CategoricalEncoding encoding = CategoricalEncoding.OneHot, ScalerKind scaler = ScalerKind.Standard,
        TabularTask task = TabularTask.Classification)
    {
        Target = target;
        Task = task;
        Targets = task == TabularTask.MultiLabel
            ? [.. target.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)]
            : [target];
        if (task == TabularTask.MultiLabel && Targets.Count < 2)
            throw new ArgumentException($"A multi-label target names at least two columns separated by commas, e.g. \"action,comedy\"; received '{target}'.", nameof(target));
        if (Targets.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Targets.Count)
            throw new ArgumentException($"The target '{target}' names a column twice.", nameof(target));
        RequestedFeatures = features;
        NumericImpute = numericImpute;
        CategoricalImpute = categoricalImpute;
        Encoding = encoding;
        ScalerKind = scaler;
    }

    public string Target { get; }

    /// <summary>The target's columns: one, or the label columns of a <see cref="TabularTask.MultiLabel"/> target.</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>Multi-label: each label column's two values, the one encoded as 0 first (after Fit).</summary>
    public IReadOnlyList<IReadOnlyList<string>> LabelValues => [.. _labels.Select(e => e.Classes)];

    /// <summary>Classes or a number.</summary>
    public TabularTask Task { get; }

    /// <summary>Regression: the training rows' target mean, subtracted before training (after Fit).</summary>
    public double TargetMean { get; private set; }

    /// <summary>Regression: the training rows' target standard deviation, divided by before training (after Fit; 1 for a constant target).</summary>
    public double TargetStd { get; private set; } = 1;

    public IReadOnlyList<string>? RequestedFeatures { get; }
    public ImputeStrategy NumericImpute { get; }
    public ImputeStrategy CategoricalImpute { get; }
    public CategoricalEncoding Encoding { get; }
    public ScalerKind ScalerKind { get; }

    /// <summary>Names of the produced feature columns ("age", "sex=female", ...), after Fit.</summary>
    public IReadOnlyList<string> FeatureNames { get; private set; } = [];

    /// <summary>The target's classes; class i is the i-th (ordinal order), after Fit. Multi-label: the label columns' names.</summary>
    public IReadOnlyList<string> Classes => Task == TabularTask.MultiLabel ? Targets : _target.Classes;

    /// <summary>Each feature column's kind when fitted: load new files with these (CsvLoadOptions.ColumnKinds), so that a
    /// column whose values are all missing in a small file is still read as a number.</summary>
    public IReadOnlyDictionary<string, ColumnKind> ColumnKinds => _features.ToDictionary(f => f.Column.Name, f => f.Column.Kind);

    /// <summary>Columns the automatic feature choice left out, with the reason.</summary>
    public IReadOnlyList<string> Skipped { get; private set; } = [];

    /// <summary>The target's class index of every row (for stratified splitting before Fit).</summary>
    /// <exception cref="InvalidDataException">The target has missing values.</exception>
    public int[] EncodeTarget(CsvTable table)
    {
        if (Task == TabularTask.Regression)
            throw new InvalidOperationException($"The target '{Target}' is predicted as a number (regression): it has no classes to encode.");
        if (Task == TabularTask.MultiLabel)
            throw new InvalidOperationException($"The target '{Target}' is several labels: encode them with EncodeLabels.");
        var col = table[Target];
        var text = TargetText(col);
        if (_target.Classes.Count == 0) _target.Fit(text.Where(t => t is not null)!);
        for (int r = 0; r < text.Length; r++)
            if (text[r] is null)
                throw new InvalidDataException($"Target column '{Target}' is missing in row {r + 1}. Drop the rows without a label before training.");
        return [.. text.Select(t => _target.Transform(t!))];
    }

    /// <summary>
    /// Multi-label: every row's labels as 0/1, rows x <see cref="Targets"/>.Count, row-major. Before Fit, it learns each
    /// column's two values from the whole column.
    /// </summary>
    /// <exception cref="InvalidDataException">A label column is missing a value, or holds other than two distinct values.</exception>
    public float[] EncodeLabels(CsvTable table)
    {
        if (Task != TabularTask.MultiLabel)
            throw new InvalidOperationException($"The target '{Target}' is not multi-label.");
        int k = Targets.Count;
        var y = new float[table.RowCount * k];
        bool fitting = _labels.Length == 0;
        var encoders = fitting ? new LabelEncoder[k] : _labels;
        for (int j = 0; j < k; j++)
        {
            var text = TargetText(table[Targets[j]]);
            if (Array.IndexOf(text, null) is var missing and >= 0)
                throw new InvalidDataException($"Label column '{Targets[j]}' is missing in row {missing + 1}. Drop the rows without every label before training.");
            if (fitting)
            {
                encoders[j] = new LabelEncoder().Fit(text!);
                if (encoders[j].Classes.Count != 2)
                    throw new InvalidDataException(
                        $"Label column '{Targets[j]}' holds {encoders[j].Classes.Count} distinct value{(encoders[j].Classes.Count == 1 ? "" : "s")} " +
                        $"({string.Join(", ", encoders[j].Classes.Take(5).Select(c => $"'{c}'"))}{(encoders[j].Classes.Count > 5 ? ", ..." : "")}); " +
                        "each label of a multi-label target needs two, such as 0 and 1 or no and yes.");
            }
            for (int r = 0; r < text.Length; r++)
            {
                if (!encoders[j].Classes.Contains(text[r]!))
                    throw new InvalidDataException($"Label column '{Targets[j]}' holds '{text[r]}' in row {r + 1}; the model knows {string.Join(" and ", encoders[j].Classes.Select(c => $"'{c}'"))}.");
                y[r * k + j] = encoders[j].Transform(text[r]!);
            }
        }
        _labels = encoders;
        return y;
    }

    /// <summary>Regression: the target's value in every row, in its own units.</summary>
    /// <exception cref="InvalidDataException">The target is not numeric or has missing values.</exception>
    public double[] TargetValues(CsvTable table)
    {
        var col = table[Target];
        if (col.Kind != ColumnKind.Numeric)
            throw new InvalidDataException($"Target column '{Target}' holds text (e.g. '{col.Categories!.FirstOrDefault(c => c is not null)}'); regression needs numbers. Predict it as classes (--task classification or auto).");
        int missing = Array.FindIndex(col.Numbers!, double.IsNaN);
        if (missing >= 0)
            throw new InvalidDataException($"Target column '{Target}' is missing in row {missing + 1}. Drop the rows without a target value before training.");
        return col.Numbers!;
    }

    /// <summary>
    /// How a target column looks to be meant, a heuristic: regression for a numeric column with a fractional value
    /// (scikit-learn's <c>type_of_target</c> calls it "continuous") or with more than <paramref name="maxClasses"/>
    /// distinct whole numbers (GpuNet's own rule: scikit-learn would say "multiclass"); classification otherwise
    /// (text, or a few whole numbers such as 0/1).
    /// </summary>
    public static TabularTask SuggestTask(TableColumn target, int maxClasses = 20)
    {
        if (target.Kind != ColumnKind.Numeric) return TabularTask.Classification;
        var values = target.Numbers!.Where(v => !double.IsNaN(v)).ToArray();
        bool fractional = values.Any(v => v != Math.Floor(v));
        return fractional || values.Distinct().Count() > maxClasses ? TabularTask.Regression : TabularTask.Classification;
    }

    /// <summary>Regression: standardized model outputs back in the target's units (y = output * std + mean).</summary>
    public float[] TargetToOriginal(ReadOnlySpan<float> standardized)
    {
        if (Task != TabularTask.Regression) throw new InvalidOperationException("Only a regression preprocessor scales its target.");
        var y = new float[standardized.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (float)(standardized[i] * TargetStd + TargetMean);
        return y;
    }

    private static string?[] TargetText(TableColumn col) => col.Kind == ColumnKind.Categorical
        ? [.. col.Categories!]
        : [.. col.Numbers!.Select(v => double.IsNaN(v) ? null : v.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Learns imputation, encoding and scaling from <paramref name="trainRows"/>.</summary>
    public TabularPreprocessor Fit(CsvTable table, ReadOnlySpan<int> trainRows)
    {
        if (Task == TabularTask.Classification) EncodeTarget(table);
        else if (Task == TabularTask.MultiLabel) EncodeLabels(table);
        else
        {
            var y = TargetValues(table);
            double mean = 0, sq = 0;
            foreach (int r in trainRows) mean += y[r];
            mean /= trainRows.Length;
            foreach (int r in trainRows) sq += (y[r] - mean) * (y[r] - mean);
            double std = Math.Sqrt(sq / trainRows.Length);
            (TargetMean, TargetStd) = (mean, std > 0 ? std : 1);
        }
        _features.Clear();
        var skipped = new List<string>();
        IEnumerable<TableColumn> chosen;
        if (RequestedFeatures is not null)
            chosen = RequestedFeatures.Select(n => table[n]);
        else
        {
            var auto = new List<TableColumn>();
            foreach (var c in table.Columns)
            {
                if (IsTarget(c.Name)) continue;
                int distinct = c.Kind == ColumnKind.Categorical ? c.Categories!.Distinct().Count() : 0;
                if (distinct > table.RowCount / 2) { skipped.Add($"{c.Name} (free text: {distinct} distinct values)"); continue; }
                auto.Add(c);
            }
            chosen = auto;
        }
        var names = new List<string>();
        var scaled = new List<int>();
        foreach (var column in chosen)
        {
            if (IsTarget(column.Name))
                throw new ArgumentException($"The target column '{column.Name}' cannot also be a feature.");
            var imputer = new SimpleImputer(column.Kind == ColumnKind.Numeric ? NumericImpute : CategoricalImpute).Fit(column, trainRows);
            LabelEncoder? encoder = null;
            if (column.Kind == ColumnKind.Numeric)
            {
                scaled.Add(names.Count);
                names.Add(column.Name);
            }
            else
            {
                var values = new List<string>(trainRows.Length);
                foreach (int r in trainRows) values.Add(imputer.Category(column, r));
                encoder = new LabelEncoder().Fit(values);
                if (Encoding == CategoricalEncoding.OneHot) names.AddRange(encoder.Classes.Select(k => $"{column.Name}={k}"));
                else { scaled.Add(names.Count); names.Add(column.Name); }
            }
            _features.Add((new FittedColumn(column.Name, column.Kind), imputer, encoder));
        }
        if (names.Count == 0) throw new ArgumentException("No feature columns are left; name them explicitly.");
        FeatureNames = names;
        Skipped = skipped;
        _scaledColumns = [.. scaled];
        _scaler = null;
        if (ScalerKind != ScalerKind.None && _scaledColumns.Length > 0)
        {
            var block = Extract(Raw(table, trainRows), trainRows.Length);
            _scaler = (ScalerKind == ScalerKind.MinMax ? new MinMaxScaler() : (Scaler)new StandardScaler()).Fit(block, _scaledColumns.Length);
        }
        return this;
    }

    private bool IsTarget(string column) => Targets.Any(t => string.Equals(t, column, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Every row's encoded, imputed, scaled features (rows x <see cref="FeatureNames"/>.Count), without the
    /// target: for predicting on new rows (a file of passengers whose survival is unknown).
    /// </summary>
    public float[] TransformFeatures(CsvTable table)
    {
        if (FeatureNames.Count == 0) throw new InvalidOperationException("Fit the preprocessor on the training rows before Transform.");
        var rows = Enumerable.Range(0, table.RowCount).ToArray();
        var x = Raw(table, rows);
        ScaleInPlace(x, rows.Length);
        return x;
    }

    /// <summary>
    /// One line per categorical feature column in which <paramref name="table"/> holds categories never seen in
    /// training (they are encoded as all zeros, or -1 with label encoding): "sex: 2 rows hold categories not seen in
    /// training ('unknown')". Empty when every category is known.
    /// </summary>
    public IReadOnlyList<string> UnseenCategories(CsvTable table)
    {
        var lines = new List<string>();
        foreach (var (fitted, imputer, encoder) in _features)
        {
            if (encoder is null) continue;
            var column = Resolve(table, fitted);
            var unseen = Enumerable.Range(0, table.RowCount).Select(r => imputer.Category(column, r)).Where(v => !encoder.Classes.Contains(v)).ToList();
            if (unseen.Count == 0) continue;
            var names = unseen.Distinct(StringComparer.Ordinal).ToList();
            lines.Add($"{fitted.Name}: {unseen.Count:N0} row{(unseen.Count == 1 ? "" : "s")} hold{(unseen.Count == 1 ? "s" : "")} categories not seen in training " +
                      $"({string.Join(", ", names.Take(5).Select(n => $"'{n}'"))}{(names.Count > 5 ? $" and {names.Count - 5} more" : "")}); " +
                      $"the model knows {string.Join(", ", encoder.Classes.Take(10).Select(c => $"'{c}'"))}{(encoder.Classes.Count > 10 ? ", ..." : "")}");
        }
        return lines;
    }

    /// <summary>The fitted state as JSON (<see cref="FromJson"/> restores it): chosen columns, fill values, categories, scaling.</summary>
    public string ToJson()
    {
        if (FeatureNames.Count == 0) throw new InvalidOperationException("Fit the preprocessor before saving it.");
        var o = new JsonObject
        {
            ["target"] = Target,
            ["task"] = Task.ToString(),
            ["target_mean"] = TargetMean,
            ["target_std"] = TargetStd,
            ["classes"] = new JsonArray([.. Classes.Select(c => (JsonNode)c)]),
            ["label_values"] = Task != TabularTask.MultiLabel ? null
                : new JsonArray([.. _labels.Select(e => (JsonNode)new JsonArray([.. e.Classes.Select(c => (JsonNode)c)]))]),
            ["encoding"] = Encoding.ToString(),
            ["numeric_impute"] = NumericImpute.ToString(),
            ["categorical_impute"] = CategoricalImpute.ToString(),
            ["scaler"] = ScalerKind.ToString(),
            ["feature_names"] = new JsonArray([.. FeatureNames.Select(n => (JsonNode)n)]),
            ["scaled_columns"] = new JsonArray([.. _scaledColumns.Select(i => (JsonNode)i)]),
            ["offset"] = _scaler is null ? null : new JsonArray([.. _scaler.Offset.Select(v => (JsonNode)v)]),
            ["scale"] = _scaler is null ? null : new JsonArray([.. _scaler.Scale.Select(v => (JsonNode)v)]),
            ["features"] = new JsonArray([.. _features.Select(f => (JsonNode)new JsonObject
            {
                ["name"] = f.Column.Name,
                ["kind"] = f.Column.Kind.ToString(),
                ["impute"] = f.Imputer.Strategy.ToString(),
                ["number_fill"] = f.Column.Kind == ColumnKind.Numeric ? f.Imputer.NumberFill : null,
                ["category_fill"] = f.Imputer.CategoryFill,
                ["categories"] = f.Encoder is null ? null : new JsonArray([.. f.Encoder.Classes.Select(c => (JsonNode)c)]),
            })]),
        };
        return o.ToJsonString();
    }

    /// <summary>A fitted preprocessor from <see cref="ToJson"/>'s text.</summary>
    /// <exception cref="InvalidDataException">The text is not a saved preprocessor.</exception>
    public static TabularPreprocessor FromJson(string json)
    {
        try
        {
            var o = JsonNode.Parse(json)!.AsObject();
            string[] Strings(string key) => [.. o[key]!.AsArray().Select(n => n!.GetValue<string>())];
            var p = new TabularPreprocessor(o["target"]!.GetValue<string>(),
                numericImpute: Enum.Parse<ImputeStrategy>(o["numeric_impute"]!.GetValue<string>()),
                categoricalImpute: Enum.Parse<ImputeStrategy>(o["categorical_impute"]!.GetValue<string>()),
                encoding: Enum.Parse<CategoricalEncoding>(o["encoding"]!.GetValue<string>()),
                scaler: Enum.Parse<ScalerKind>(o["scaler"]!.GetValue<string>()),
                task: o["task"] is JsonNode task ? Enum.Parse<TabularTask>(task.GetValue<string>()) : TabularTask.Classification);
            if (p.Task == TabularTask.Regression)
                (p.TargetMean, p.TargetStd) = (o["target_mean"]!.GetValue<double>(), o["target_std"]!.GetValue<double>());
            else if (p.Task == TabularTask.MultiLabel)
                p._labels = [.. o["label_values"]!.AsArray().Select(v => new LabelEncoder().Fit(v!.AsArray().Select(c => c!.GetValue<string>())))];
            else p._target.Fit(Strings("classes"));
            foreach (var f in o["features"]!.AsArray().Select(n => n!.AsObject()))
            {
                var kind = Enum.Parse<ColumnKind>(f["kind"]!.GetValue<string>());
                var imputer = new SimpleImputer(Enum.Parse<ImputeStrategy>(f["impute"]!.GetValue<string>()))
                    .Restore(f["number_fill"]?.GetValue<double>() ?? double.NaN, f["category_fill"]?.GetValue<string>());
                var encoder = f["categories"] is JsonArray cats ? new LabelEncoder().Fit(cats.Select(c => c!.GetValue<string>())) : null;
                p._features.Add((new FittedColumn(f["name"]!.GetValue<string>(), kind), imputer, encoder));
            }
            p.FeatureNames = Strings("feature_names");
            p._scaledColumns = [.. o["scaled_columns"]!.AsArray().Select(n => n!.GetValue<int>())];
            if (o["offset"] is JsonArray offset && o["scale"] is JsonArray scale)
                p._scaler = Scaler.Restore(p.ScalerKind, [.. offset.Select(v => v!.GetValue<float>())], [.. scale.Select(v => v!.GetValue<float>())]);
            return p;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"The saved tabular preprocessing is damaged ({e.Message}).", e);
        }
    }

    /// <summary>The rows as a dataset of encoded, imputed, scaled features and class labels (regression: standardized targets).</summary>
    /// <param name="table">The fitted table or another one with the same columns (e.g. a separate test file).</param>
    /// <exception cref="InvalidDataException">A feature column of <paramref name="table"/> has another kind than when fitted.</exception>
    public Dataset Transform(CsvTable table, ReadOnlySpan<int> rows, string name)
    {
        if (FeatureNames.Count == 0) throw new InvalidOperationException("Fit the preprocessor on the training rows before Transform.");
        var x = Raw(table, rows);
        ScaleInPlace(x, rows.Length);
        if (Task == TabularTask.Regression)
        {
            var y = TargetValues(table);
            var targets = new float[rows.Length];
            for (int i = 0; i < rows.Length; i++) targets[i] = (float)((y[rows[i]] - TargetMean) / TargetStd);
            return Dataset.ForRegression(name, x, targets, FeatureNames.Count);
        }
        if (Task == TabularTask.MultiLabel)
        {
            var all = EncodeLabels(table);
            int k = Targets.Count;
            var y = new float[rows.Length * k];
            for (int i = 0; i < rows.Length; i++) Array.Copy(all, rows[i] * k, y, i * k, k);
            return Dataset.WithTargets(name, x, y, FeatureNames.Count, k, multiLabel: true);
        }
        var allLabels = EncodeTarget(table);
        var labels = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++) labels[i] = allLabels[rows[i]];
        return new Dataset(name, x, labels, FeatureNames.Count, Math.Max(Classes.Count, 2));
    }

    private void ScaleInPlace(float[] x, int rows)
    {
        if (_scaler is null) return;
        var block = Extract(x, rows);
        _scaler.Transform(block, _scaledColumns.Length);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < _scaledColumns.Length; j++)
                x[r * FeatureNames.Count + _scaledColumns[j]] = block[r * _scaledColumns.Length + j];
    }

    private float[] Raw(CsvTable table, ReadOnlySpan<int> rows)
    {
        int width = FeatureNames.Count;
        var x = new float[rows.Length * width];
        // Read the features from the table given, which need not be the one Fit saw.
        var columns = _features.Select(f => Resolve(table, f.Column)).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i], col = 0;
            for (int f = 0; f < _features.Count; f++)
            {
                var (_, imputer, encoder) = _features[f];
                var column = columns[f];
                if (encoder is null) x[i * width + col++] = (float)imputer.Number(column, r);
                else if (Encoding == CategoricalEncoding.Label) x[i * width + col++] = TryEncode(encoder, imputer.Category(column, r));
                else
                {
                    int k = (int)TryEncode(encoder, imputer.Category(column, r));
                    if (k >= 0) x[i * width + col + k] = 1f; // a category unseen in training: all zeros
                    col += encoder.Classes.Count;
                }
            }
        }
        return x;
    }

    private static TableColumn Resolve(CsvTable table, FittedColumn fitted)
    {
        var column = table[fitted.Name];
        if (column.Kind != fitted.Kind)
            throw new InvalidDataException(
                $"Column '{fitted.Name}' was {fitted.Kind.ToString().ToLowerInvariant()} when the preprocessor was fitted but is " +
                $"{column.Kind.ToString().ToLowerInvariant()} in this table (a column with no value present is inferred categorical). " +
                "Declare its kind with CsvLoadOptions.ColumnKinds when loading.");
        return column;
    }

    private static float TryEncode(LabelEncoder encoder, string value) =>
        encoder.Classes.Contains(value) ? encoder.Transform(value) : -1f;

    private float[] Extract(float[] x, int rows)
    {
        int width = FeatureNames.Count, k = _scaledColumns.Length;
        var block = new float[rows * k];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++) block[r * k + j] = x[r * width + _scaledColumns[j]];
        return block;
    }
}
