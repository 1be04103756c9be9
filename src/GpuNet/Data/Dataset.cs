namespace GpuNet.Data;

/// <summary>
/// A labelled dataset in host memory: <see cref="Count"/> samples of <see cref="FeatureCount"/> floats
/// (row-major) and one integer class label each.
/// </summary>
public sealed class Dataset
{
    /// <summary>Creates a dataset; <paramref name="features"/> is Count x FeatureCount, row-major.</summary>
    /// <exception cref="ArgumentException">Lengths disagree, or a label is outside [0, classCount).</exception>
    public Dataset(string name, float[] features, int[] labels, int featureCount, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(featureCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        if (features.Length != (long)labels.Length * featureCount)
            throw new ArgumentException(
                $"Dataset '{name}': {features.Length} feature values do not make {labels.Length} samples of {featureCount} features.", nameof(features));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentException(
                    $"Dataset '{name}': label {labels[i]} of sample {i} is outside [0, {classCount}). Labels must be class indices 0..{classCount - 1}.", nameof(labels));
        Name = name;
        Features = features;
        Labels = labels;
        FeatureCount = featureCount;
        ClassCount = classCount;
    }

    /// <summary>
    /// A regression dataset: <paramref name="targets"/> is Count x targetCount real values (for mean squared
    /// error). Its class labels are all 0 and accuracy is not reported.
    /// </summary>
    public static Dataset ForRegression(string name, float[] features, float[] targets, int featureCount, int targetCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetCount, 1);
        if (targets.Length % targetCount != 0)
            throw new ArgumentException($"Dataset '{name}': {targets.Length} target values are not a whole number of rows of {targetCount}.", nameof(targets));
        return new Dataset(name, features, new int[targets.Length / targetCount], featureCount, 1) { Targets = targets, TargetCount = targetCount };
    }

    /// <summary>
    /// A classification dataset whose targets are given as rows of <paramref name="classCount"/> values in [0, 1]
    /// instead of class indices: one-hot or soft (label-smoothed) rows that sum to 1, for categorical
    /// cross-entropy, or multi-label rows of independent 0/1 (or soft) values, for sigmoid outputs with binary
    /// cross-entropy. Each sample's class label is its row's argmax (the first, at a tie), which accuracy counts
    /// against (Keras' categorical accuracy); multi-label sets (a row that does not sum to 1) report Keras' binary accuracy,
    /// every (sample, label) pair on its own with p &gt; 0.5 against t &gt; 0.5.
    /// </summary>
    /// <param name="targets">Count x classCount values in [0, 1], row-major.</param>
    /// <param name="multiLabel">True: the rows are independent labels even where one sums to 1 (a sample with one label);
    /// false: class distributions; null: multi-label when some row does not sum to 1.</param>
    /// <exception cref="ArgumentException">A target is outside [0, 1] or not a number, or the lengths disagree.</exception>
    public static Dataset WithTargets(string name, float[] features, float[] targets, int featureCount, int classCount, bool? multiLabel = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if (targets.Length % classCount != 0)
            throw new ArgumentException($"Dataset '{name}': {targets.Length} target values are not a whole number of rows of {classCount} classes.", nameof(targets));
        int rows = targets.Length / classCount;
        var labels = new int[rows];
        bool sumsDiffer = false;
        for (int r = 0; r < rows; r++)
        {
            var row = targets.AsSpan(r * classCount, classCount);
            double sum = 0;
            for (int c = 0; c < classCount; c++)
            {
                if (!(row[c] >= 0 && row[c] <= 1))
                    throw new ArgumentException(
                        $"Dataset '{name}': target {row[c]} of sample {r}, class {c} is outside [0, 1]. Targets are probabilities: one-hot, soft or multi-label rows.", nameof(targets));
                if (row[c] > row[labels[r]]) labels[r] = c;
                sum += row[c];
            }
            if (Math.Abs(sum - 1) > 1e-3) sumsDiffer = true;
        }
        if (multiLabel == false && sumsDiffer)
            throw new ArgumentException($"Dataset '{name}': multiLabel is false but some target rows do not sum to 1; class distributions must (one-hot or soft rows).", nameof(multiLabel));
        return new Dataset(name, features, labels, featureCount, classCount)
            { Targets = targets, TargetCount = classCount, HasClassTargets = true, IsMultiLabel = multiLabel ?? sumsDiffer };
    }

    /// <summary>
    /// One feature row per sample from one array per input: each sample's values of input 0, then of input 1 ..., side by
    /// side, as a functional model with several inputs (<see cref="Models.Functional.Model(Models.SymbolicTensor[], Models.SymbolicTensor, string?)"/>)
    /// takes them, in the order of its inputs. The result is the features of a <see cref="Dataset"/> (FeatureCount the sum of the
    /// widths) or the rows for <see cref="Models.Sequential.Predict"/>.
    /// </summary>
    /// <param name="inputs">Each input's values, samples x Features, row-major (an image input's Features is its size, 28 * 28).</param>
    /// <returns>samples x (sum of Features), row-major.</returns>
    /// <exception cref="ArgumentException">No input; a width below 1; values that are not whole rows of their width; or
    /// inputs with different numbers of samples. The message names the input and its counts.</exception>
    /// <example><c>var features = Dataset.JoinFeatures((left, 6), (right, 3)); // 9 values per sample</c></example>
    public static float[] JoinFeatures(params (float[] Values, int Features)[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0)
            throw new ArgumentException("JoinFeatures needs at least one input: (values, features per sample) for each of the model's inputs.", nameof(inputs));
        long samples = -1, width = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            var (values, features) = inputs[i];
            if (values is null)
                throw new ArgumentException($"Input {i}'s values are null; give an array of samples x features values.", nameof(inputs));
            if (features < 1)
                throw new ArgumentException($"Input {i} has {features} features per sample; each input needs at least 1.", nameof(inputs));
            if (values.Length % features != 0)
                throw new ArgumentException(
                    $"Input {i} has {values.Length} values, which are not whole samples of {features} features ({values.Length / features} samples and {values.Length % features} values over).",
                    nameof(inputs));
            long rows = values.Length / features;
            if (samples >= 0 && rows != samples)
                throw new ArgumentException(
                    $"Input {i} has {rows} samples ({values.Length} values of {features} features), but input 0 has {samples} " +
                    $"({inputs[0].Values.Length} values of {inputs[0].Features} features): every input needs one row per sample, the same samples in the same order.",
                    nameof(inputs));
            samples = rows;
            width += features;
        }
        if (samples * width > Array.MaxLength)
            throw new ArgumentException($"{samples:N0} samples of {width:N0} features make more values than one array holds.", nameof(inputs));
        var joined = new float[samples * width];
        int offset = 0;
        foreach (var (values, features) in inputs)
        {
            for (long r = 0; r < samples; r++)
                values.AsSpan((int)(r * features), features).CopyTo(joined.AsSpan((int)(r * width + offset), features));
            offset += features;
        }
        return joined;
    }

    public string Name { get; }

    /// <summary>True for a set made by <see cref="WithTargets"/>: classes given as rows of probabilities.</summary>
    public bool HasClassTargets { get; private init; }

    /// <summary>True when some target row of a <see cref="WithTargets"/> set does not sum to 1 (several labels at once).</summary>
    public bool IsMultiLabel { get; private init; }

    /// <summary>Whether Fit and Evaluate report an accuracy: not for regression. For a multi-label set it is Keras' binary
    /// accuracy, each (sample, label) pair counted on its own.</summary>
    public bool ReportsAccuracy => !IsRegression;

    /// <summary>Real-valued targets, Count x TargetCount (regression), or null for a classification set.</summary>
    public float[]? Targets { get; private init; }

    /// <summary>Targets per sample (0 for a classification set).</summary>
    public int TargetCount { get; private init; }

    /// <summary>True for a regression set (see <see cref="ForRegression"/>).</summary>
    public bool IsRegression => Targets is not null && !HasClassTargets;

    /// <summary>Count x FeatureCount, row-major.</summary>
    public float[] Features { get; }

    /// <summary>Class index of each sample.</summary>
    public int[] Labels { get; }

    public int Count => Labels.Length;

    public int FeatureCount { get; }

    /// <summary>
    /// The shape of one sample, batch not included: (28, 28) for MNIST's images, (FeatureCount) for a flat row (the
    /// default). The features are stored flat either way (row-major, the last axis fastest); a model whose input shape
    /// (<see cref="Models.Sequential.InputShape"/>) has the same size takes them.
    /// </summary>
    /// <exception cref="ArgumentException">(init) The shape does not have <see cref="FeatureCount"/> values.</exception>
    public Graph.Shape SampleShape
    {
        get => _sampleShape ?? new Graph.Shape(FeatureCount);
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Size != FeatureCount)
                throw new ArgumentException(
                    $"Dataset '{Name}': sample shape {value} has {value.Size} values, but each sample has {FeatureCount} features.", nameof(SampleShape));
            _sampleShape = value.Rank == 1 ? null : value;
        }
    }

    private readonly Graph.Shape? _sampleShape;

    /// <summary>This dataset (the same arrays, not copied) with samples of shape <paramref name="shape"/>: <c>data.WithSampleShape(28, 28)</c>.</summary>
    /// <exception cref="ArgumentException">The shape does not have <see cref="FeatureCount"/> values; the message names both.</exception>
    public Dataset WithSampleShape(params int[] shape) =>
        new(Name, Features, Labels, FeatureCount, ClassCount)
        {
            Targets = Targets, TargetCount = TargetCount, HasClassTargets = HasClassTargets, IsMultiLabel = IsMultiLabel,
            SampleShape = new Graph.Shape(shape),
        };

    public int ClassCount { get; }

    /// <summary>The samples at <paramref name="indices"/>, in that order.</summary>
    public Dataset Select(ReadOnlySpan<int> indices, string? name = null)
    {
        var features = new float[indices.Length * FeatureCount];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int src = indices[i];
            if ((uint)src >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), src, $"Sample index {src} is outside dataset '{Name}' of {Count} samples.");
            Array.Copy(Features, (long)src * FeatureCount, features, (long)i * FeatureCount, FeatureCount);
            labels[i] = Labels[src];
        }
        float[]? targets = null;
        if (Targets is not null)
        {
            targets = new float[indices.Length * TargetCount];
            for (int i = 0; i < indices.Length; i++)
                Array.Copy(Targets, (long)indices[i] * TargetCount, targets, (long)i * TargetCount, TargetCount);
        }
        return new Dataset(name ?? Name, features, labels, FeatureCount, ClassCount)
            { Targets = targets, TargetCount = TargetCount, HasClassTargets = HasClassTargets, IsMultiLabel = IsMultiLabel, SampleShape = SampleShape };
    }

    /// <summary>Samples [start, start + count).</summary>
    public Dataset Range(int start, int count, string? name = null) =>
        Select(Enumerable.Range(start, count).ToArray(), name);

    /// <summary>
    /// Splits off the fraction <paramref name="holdOut"/> of the samples (e.g. a validation set).
    /// With a seed the samples are shuffled first; without one the last samples are held out.
    /// </summary>
    /// <remarks>
    /// Keras' validation_split takes the last rows without shuffling, which silently skews data sorted
    /// by label or by date. GpuNet shuffles with the seed before splitting.
    /// </remarks>
    public (Dataset Kept, Dataset HeldOut) Split(double holdOut, int? seed)
    {
        if (!(holdOut > 0 && holdOut < 1))
            throw new ArgumentOutOfRangeException(nameof(holdOut), holdOut, "The held-out fraction must be in (0, 1), e.g. 0.2 for 20%.");
        int heldOut = (int)Math.Round(Count * holdOut);
        if (heldOut < 1 || heldOut >= Count)
            throw new ArgumentOutOfRangeException(nameof(holdOut), holdOut,
                $"Holding out {holdOut:P0} of {Count} samples leaves an empty part; use a larger dataset or another fraction.");
        var order = Enumerable.Range(0, Count).ToArray();
        if (seed is int s) new Random(s).Shuffle(order);
        int kept = Count - heldOut;
        return (Select(order.AsSpan(0, kept), Name + "/train"), Select(order.AsSpan(kept), Name + "/validation"));
    }
}

/// <summary>A training set and a test set.</summary>
public sealed record TrainTestData(Dataset Train, Dataset Test);
