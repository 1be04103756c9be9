using System.Globalization;
using System.Text;
using GpuNet.Data;

namespace GpuNet.Models;

/// <summary>
/// Counts of (actual, predicted) class pairs, with per-class precision, recall and F1 as scikit-learn's
/// <c>confusion_matrix</c> and <c>classification_report</c> give them.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <param name="labels">The actual class of each sample, in [0, <paramref name="classCount"/>).</param>
    /// <param name="predicted">The predicted class of each sample, as many as labels.</param>
    /// <param name="classNames">Names for the rows and columns (default: the class numbers).</param>
    /// <exception cref="ArgumentException">The arrays differ in length or a class is out of range.</exception>
    public ConfusionMatrix(IReadOnlyList<int> labels, IReadOnlyList<int> predicted, int classCount, IReadOnlyList<string>? classNames = null)
    {
        if (classCount < 1)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, $"classCount must be positive; received {classCount}.");
        if (labels.Count != predicted.Count)
            throw new ArgumentException($"{labels.Count} labels but {predicted.Count} predictions: give one prediction per label.", nameof(predicted));
        if (classNames is not null && classNames.Count != classCount)
            throw new ArgumentException($"{classNames.Count} class names for {classCount} classes.", nameof(classNames));
        ClassCount = classCount;
        ClassNames = classNames ?? [.. Enumerable.Range(0, classCount).Select(c => c.ToString(CultureInfo.InvariantCulture))];
        _counts = new long[classCount * classCount];
        for (int i = 0; i < labels.Count; i++)
        {
            int a = labels[i], p = predicted[i];
            if ((uint)a >= (uint)classCount || (uint)p >= (uint)classCount)
                throw new ArgumentException($"Sample {i}: class {((uint)a >= (uint)classCount ? a : p)} is outside [0, {classCount}).", nameof(labels));
            _counts[a * classCount + p]++;
        }
        Total = labels.Count;
    }

    /// <summary>The model's predicted classes for <paramref name="data"/> against its labels.</summary>
    public static ConfusionMatrix Of(Sequential model, Dataset data, IReadOnlyList<string>? classNames = null)
    {
        if (data.IsRegression) throw new ArgumentException($"Dataset '{data.Name}' is a regression set: it has no classes to confuse.", nameof(data));
        var predicted = model.PredictClasses(data.Features);
        return new ConfusionMatrix(data.Labels, predicted.Classes, Math.Max(data.ClassCount, predicted.ClassCount), classNames);
    }

    public int ClassCount { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int Total { get; }

    /// <summary>Samples of class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted] => _counts[actual * ClassCount + predicted];

    /// <summary>Samples of class <paramref name="c"/> (the row sum).</summary>
    public long Support(int c) => Enumerable.Range(0, ClassCount).Sum(p => this[c, p]);

    private long PredictedAs(int c) => Enumerable.Range(0, ClassCount).Sum(a => this[a, c]);

    public double Accuracy => Total == 0 ? double.NaN : (double)Enumerable.Range(0, ClassCount).Sum(c => this[c, c]) / Total;

    /// <summary>Of the samples predicted as <paramref name="c"/>, the share that are; 0 when none is (as scikit-learn's zero_division default).</summary>
    public double Precision(int c) => PredictedAs(c) is var n && n == 0 ? 0 : (double)this[c, c] / n;

    /// <summary>Of the samples of class <paramref name="c"/>, the share predicted as such; 0 when there are none.</summary>
    public double Recall(int c) => Support(c) is var n && n == 0 ? 0 : (double)this[c, c] / n;

    /// <summary>The harmonic mean of precision and recall; 0 when both are 0.</summary>
    public double F1(int c)
    {
        double p = Precision(c), r = Recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /// <summary>The unweighted mean of the per-class F1 scores, over all <see cref="ClassCount"/> classes (scikit-learn's
    /// with <c>labels=range(ClassCount)</c>: a class absent from both labels and predictions counts, with F1 0).</summary>
    public double MacroF1 => Enumerable.Range(0, ClassCount).Average(F1);

    /// <summary>The per-class F1 scores averaged with each class's support as its weight (scikit-learn's "weighted avg").</summary>
    public double WeightedF1 => Weighted(F1);

    private double Weighted(Func<int, double> score) =>
        Total == 0 ? 0 : Enumerable.Range(0, ClassCount).Sum(c => score(c) * Support(c)) / Total;

    /// <summary>The matrix (rows: actual, columns: predicted) and a per-class precision / recall / F1 / support report.</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        int name = Math.Max(ClassNames.Max(n => n.Length), "actual \\ predicted".Length);
        int cell = Math.Max(Math.Max(ClassNames.Max(n => Math.Min(n.Length, 8)), Total.ToString("N0", CultureInfo.InvariantCulture).Length), 5) + 1;
        s.Append("actual \\ predicted".PadRight(name));
        foreach (var n in ClassNames) s.Append((n.Length > 8 ? n[..8] : n).PadLeft(cell));
        s.AppendLine();
        for (int a = 0; a < ClassCount; a++)
        {
            s.Append(ClassNames[a].PadRight(name));
            for (int p = 0; p < ClassCount; p++) s.Append(this[a, p].ToString("N0", CultureInfo.InvariantCulture).PadLeft(cell));
            s.AppendLine();
        }
        s.AppendLine();
        s.AppendLine($"{"class".PadRight(name)} precision    recall  f1-score   support");
        for (int c = 0; c < ClassCount; c++)
            s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{ClassNames[c].PadRight(name)} {Precision(c),9:F4} {Recall(c),9:F4} {F1(c),9:F4} {Support(c),9:N0}"));
        s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{"accuracy".PadRight(name)} {"",9} {"",9} {Accuracy,9:F4} {Total,9:N0}"));
        s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{"macro avg".PadRight(name)} {Enumerable.Range(0, ClassCount).Average(Precision),9:F4} {Enumerable.Range(0, ClassCount).Average(Recall),9:F4} {MacroF1,9:F4} {Total,9:N0}"));
        s.Append(string.Create(CultureInfo.InvariantCulture, $"{"weighted avg".PadRight(name)} {Weighted(Precision),9:F4} {Weighted(Recall),9:F4} {WeightedF1,9:F4} {Total,9:N0}"));
        return s.ToString();
    }
}
