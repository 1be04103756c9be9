using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace GpuNet.Data.Tabular;

/// <summary>Whether a column holds numbers or category names.</summary>
public enum ColumnKind
{
    Numeric,
    Categorical,
}

/// <summary>
/// One column of a <see cref="CsvTable"/>: numbers (NaN where missing) or category strings (null where missing).
/// </summary>
public sealed class TableColumn
{
    internal TableColumn(string name, ColumnKind kind, double[]? numbers, string?[]? categories)
    {
        Name = name;
        Kind = kind;
        Numbers = numbers;
        Categories = categories;
    }

    public string Name { get; }
    public ColumnKind Kind { get; }

    /// <summary>The values of a numeric column, NaN where missing.</summary>
    public double[]? Numbers { get; }

    /// <summary>The values of a categorical column, null where missing.</summary>
    public string?[]? Categories { get; }

    public int Count => Numbers?.Length ?? Categories!.Length;

    /// <summary>Whether row <paramref name="row"/> has no value (NaN for a number, null for a category).</summary>
    public bool IsMissing(int row) => Numbers is not null ? double.IsNaN(Numbers[row]) : Categories![row] is null;

    /// <summary>Rows with no value.</summary>
    public int MissingCount => Enumerable.Range(0, Count).Count(IsMissing);

    public override string ToString() => $"{Name} ({Kind.ToString().ToLowerInvariant()}, {MissingCount} missing)";
}

/// <summary>Options of <see cref="CsvTable.Load"/>.</summary>
public sealed record CsvLoadOptions
{
    /// <summary>Declared column kinds; columns not named here are inferred (numeric when every present value parses as a number).</summary>
    public IReadOnlyDictionary<string, ColumnKind>? ColumnKinds { get; init; }

    /// <summary>Cell texts that mean "missing" (compared after trimming, case-insensitively).</summary>
    public IReadOnlyList<string> MissingValues { get; init; } = ["", "NA", "N/A", "NaN", "null", "?"];

    /// <summary>Field separator.</summary>
    public string Delimiter { get; init; } = ",";
}

/// <summary>
/// A CSV file read into typed columns (parsed by CsvHelper: quoting, embedded commas and newlines
/// follow RFC 4180). Numbers use the invariant culture ("29.5").
/// </summary>
public sealed class CsvTable
{
    private readonly Dictionary<string, TableColumn> _byName;

    private CsvTable(IReadOnlyList<TableColumn> columns, int rows)
    {
        Columns = columns;
        RowCount = rows;
        _byName = columns.ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<TableColumn> Columns { get; }

    public int RowCount { get; }

    /// <summary>The column named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="KeyNotFoundException">No such column; the message lists the columns.</exception>
    public TableColumn this[string name] => _byName.TryGetValue(name, out var c) ? c
        : throw new KeyNotFoundException($"The table has no column '{name}'. Its columns are: {string.Join(", ", Columns.Select(x => x.Name))}.");

    /// <summary>Reads a CSV file with a header row.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">No header, ragged rows, or a declared-numeric column with text in it.</exception>
    public static CsvTable Load(string path, CsvLoadOptions? options = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        using var reader = new StreamReader(path);
        return Parse(reader, path, options);
    }

    /// <summary>Reads CSV text with a header row; <paramref name="name"/> is used in messages.</summary>
    public static CsvTable Parse(TextReader text, string name, CsvLoadOptions? options = null)
    {
        options ??= new CsvLoadOptions();
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = options.Delimiter,
            TrimOptions = TrimOptions.Trim,
            DetectColumnCountChanges = true,
        };
        using var csv = new CsvReader(text, config);
        bool hasHeader;
        try
        {
            hasHeader = csv.Read() && csv.ReadHeader();
        }
        catch (BadDataException e) // found by the reader fuzz test: a stray quote in the header row
        {
            throw new InvalidDataException($"CSV file '{name}' has a malformed header row: {e.Message.Split('\n')[0]} Quote fields that contain quotes or the delimiter.", e);
        }
        if (!hasHeader || csv.HeaderRecord is not { Length: > 0 } header)
            throw new InvalidDataException($"CSV file '{name}' is empty: expected a header row with the column names.");
        // a file written with another separator reads as one column: say so rather than fail on its first row
        if (header.Length == 1 && new[] { ";", "\t", "|" }.FirstOrDefault(d => d != options.Delimiter && header[0].Contains(d, StringComparison.Ordinal)) is { } other)
            throw new InvalidDataException(
                $"CSV file '{name}' separates its fields with '{(other == "\t" ? "\\t" : other)}', not '{options.Delimiter}': its header '{header[0]}' reads as one column. " +
                $"Save it with '{options.Delimiter}' between fields (and a dot in decimal numbers), or set CsvLoadOptions.Delimiter = \"{(other == "\t" ? "\\t" : other)}\" when loading it in code.");
        // Columns are looked up ignoring case, so "Age" and "age" would collide in the index.
        if (header.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InvalidDataException(
                $"CSV file '{name}' has more than one column named {string.Join(" and ", twice.Select(n => $"'{n}'"))} (names are compared ignoring case). Rename them apart.");
        foreach (string declaredName in options.ColumnKinds?.Keys ?? [])
            if (!header.Contains(declaredName, StringComparer.OrdinalIgnoreCase))
                throw new InvalidDataException(
                    $"CSV file '{name}' has no column '{declaredName}', which is expected (its kind is declared). Its columns are: {string.Join(", ", header)}.");
        var cells = header.Select(_ => new List<string?>()).ToArray();
        var missing = new HashSet<string>(options.MissingValues, StringComparer.OrdinalIgnoreCase);
        try
        {
            while (csv.Read())
            {
                for (int c = 0; c < header.Length; c++)
                {
                    string raw = csv.GetField(c) ?? "";
                    cells[c].Add(missing.Contains(raw.Trim()) ? null : raw.Trim());
                }
            }
        }
        // First: DetectColumnCountChanges reports a ragged row as a BadDataException ("An inconsistent number of columns").
        catch (CsvHelperException e) when (e is CsvHelper.MissingFieldException || e.Message.Contains("number of columns", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"CSV file '{name}' has a row with a different number of fields than its {header.Length}-column header, near line {e.Context?.Parser?.RawRow}. " +
                "Quote fields that contain the delimiter.", e);
        }
        catch (BadDataException e)
        {
            throw new InvalidDataException($"CSV file '{name}' has a malformed row near line {e.Context?.Parser?.RawRow}: {e.Message.Split('\n')[0]}", e);
        }

        var columns = new List<TableColumn>(header.Length);
        var warnings = new List<string>();
        for (int c = 0; c < header.Length; c++)
        {
            string col = header[c];
            var values = cells[c];
            ColumnKind? declared = options.ColumnKinds?.Where(d => string.Equals(d.Key, col, StringComparison.OrdinalIgnoreCase))
                .Select(d => (ColumnKind?)d.Value).FirstOrDefault();
            var numbers = new double[values.Count];
            int firstText = -1;
            for (int r = 0; r < values.Count; r++)
            {
                if (values[r] is null) numbers[r] = double.NaN;
                else if (!double.TryParse(values[r], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[r]))
                {
                    firstText = r;
                    break;
                }
            }
            if (declared == ColumnKind.Numeric && firstText >= 0)
                throw new InvalidDataException(
                    $"CSV file '{name}': column '{col}' is declared numeric, but row {firstText + 1} holds '{values[firstText]}'. " +
                    "Declare it categorical, or list that text among the missing values.");
            bool numeric = declared is null ? firstText < 0 && values.Any(v => v is not null) : declared == ColumnKind.Numeric;
            if (declared is null && firstText >= 0)
            {
                // a column of numbers with a few text cells is probably damaged, not categorical: say which cells
                var texts = values.Select((v, r) => (v, r)).Where(t => t.v is not null && !double.TryParse(t.v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)).ToList();
                int present = values.Count(v => v is not null);
                if (texts.Count * 2 < present)
                    warnings.Add($"column '{col}' holds numbers in {present - texts.Count:N0} of {present:N0} rows but text in {texts.Count:N0} " +
                                 $"(row {texts[0].r + 1}: '{texts[0].v}'{(texts.Count > 1 ? $", row {texts[1].r + 1}: '{texts[1].v}'" : "")}), so it is read as categories. " +
                                 "If it is numeric, fix those cells or leave them blank (blank cells are imputed).");
            }
            columns.Add(numeric
                ? new TableColumn(col, ColumnKind.Numeric, numbers, null)
                : new TableColumn(col, ColumnKind.Categorical, null, [.. values]));
        }
        return new CsvTable(columns, cells[0].Count) { Warnings = warnings };
    }

    /// <summary>What looked wrong while reading, one line each (e.g. a numeric column with a few text cells, read as categories).</summary>
    public IReadOnlyList<string> Warnings { get; private init; } = [];

    /// <summary>The rows that have a value in <paramref name="column"/> (pandas' <c>dropna(subset=[column])</c>), e.g. to train on the rows whose target is known.</summary>
    /// <exception cref="KeyNotFoundException">No such column.</exception>
    public CsvTable WithoutMissing(string column)
    {
        var c = this[column];
        var keep = Enumerable.Range(0, RowCount).Where(r => !c.IsMissing(r)).ToArray();
        if (keep.Length == RowCount) return this;
        var columns = Columns.Select(col => new TableColumn(col.Name, col.Kind,
            col.Numbers is null ? null : [.. keep.Select(r => col.Numbers[r])],
            col.Categories is null ? null : [.. keep.Select(r => col.Categories[r])])).ToList();
        return new CsvTable(columns, keep.Length);
    }

    /// <summary>One line per column with missing values: "age: 263 of 1309 missing (20.1%)".</summary>
    public IReadOnlyList<string> MissingReport() =>
        [.. Columns.Where(c => c.MissingCount > 0).Select(c => string.Create(CultureInfo.InvariantCulture,
            $"{c.Name}: {c.MissingCount} of {RowCount} missing ({100.0 * c.MissingCount / RowCount:F1}%)"))];
}
