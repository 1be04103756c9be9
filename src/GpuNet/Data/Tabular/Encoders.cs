namespace GpuNet.Data.Tabular;

/// <summary>Maps category names to integers 0..K-1 in sorted (ordinal) order, as scikit-learn's LabelEncoder.</summary>
public sealed class LabelEncoder
{
    private Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>The classes, index i being encoded as i (after Fit).</summary>
    public IReadOnlyList<string> Classes { get; private set; } = [];

    public LabelEncoder Fit(IEnumerable<string> values)
    {
        Classes = [.. values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        _index = Classes.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i, StringComparer.Ordinal);
        return this;
    }

    /// <exception cref="ArgumentException">A value the encoder was not fitted on.</exception>
    public int Transform(string value) => _index.TryGetValue(value, out int i) ? i
        : throw new ArgumentException($"Unknown category '{value}'; the encoder knows: {string.Join(", ", Classes)}. Fit it on data that contains every category.");
}

/// <summary>Keras-style encodings of labels and sequences.</summary>
public static class Encoding
{
    /// <summary>
    /// One-hot rows for integer labels, as Keras' to_categorical: labels.Length x numClasses,
    /// row r has 1 at column labels[r] and 0 elsewhere.
    /// </summary>
    /// <param name="numClasses">Columns; when null, max(label) + 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A label outside [0, numClasses), or numClasses &lt; 1.</exception>
    public static float[] ToCategorical(ReadOnlySpan<int> labels, int? numClasses = null)
    {
        if (numClasses is < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"numClasses must be positive (e.g. 10 for digits); received numClasses={numClasses}.");
        int classes = numClasses ?? (labels.Length == 0 ? 0 : Max(labels) + 1);
        var result = new float[labels.Length * classes];
        for (int r = 0; r < labels.Length; r++)
        {
            if ((uint)labels[r] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[r], $"Label {labels[r]} at index {r} is outside [0, {classes}).");
            result[r * classes + labels[r]] = 1f;
        }
        return result;
    }

    /// <summary>
    /// Multi-hot vectors, as the lecture's IMDB setup: sequence i becomes row i of a
    /// sequences.Count x dimension matrix with 1 at every index the sequence contains (repeats count once).
    /// Indices at or above <paramref name="dimension"/> (words outside the vocabulary) are skipped, as
    /// Keras' num_words does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative index, or a non-positive dimension.</exception>
    public static float[] MultiHot(IReadOnlyList<int[]> sequences, int dimension)
    {
        if (dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"The vocabulary dimension must be positive (the lecture uses 10,000); received {dimension}.");
        var result = new float[(long)sequences.Count * dimension];
        for (int i = 0; i < sequences.Count; i++)
            foreach (int w in sequences[i])
            {
                if (w < 0)
                    throw new ArgumentOutOfRangeException(nameof(sequences), w, $"Sequence {i} holds the negative word index {w}; indices must be >= 0.");
                if (w < dimension) result[(long)i * dimension + w] = 1f;
            }
        return result;
    }

    private static int Max(ReadOnlySpan<int> values)
    {
        int m = int.MinValue;
        foreach (int v in values) m = Math.Max(m, v);
        return m;
    }
}
