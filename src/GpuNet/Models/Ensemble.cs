using GpuNet.Backends;
using GpuNet.Data;
using GpuNet.Losses;

namespace GpuNet.Models;

/// <summary>Accuracy and loss of an <see cref="Ensemble"/> and of each of its members on one dataset.</summary>
/// <param name="Ensemble">The averaged prediction's loss and accuracy.</param>
/// <param name="Members">Each member's own loss and accuracy, in order.</param>
public sealed record EnsembleEvaluation(EvaluationResult Ensemble, IReadOnlyList<EvaluationResult> Members)
{
    /// <summary>The members' mean accuracy: what the ensemble is compared against.</summary>
    public double MeanMemberAccuracy => Members.Average(m => m.Accuracy);
}

/// <summary>
/// A model ensemble, the lecture's last regularizer: several independently trained models (different seeds,
/// or different architectures) whose predicted probabilities are averaged. Their errors are partly
/// independent, so the average is usually more accurate than the typical member.
/// </summary>
/// <remarks>
/// Members must take the same inputs and produce the same outputs. Members trained from logits
/// (<c>fromLogits: true</c>) are turned into probabilities (softmax or sigmoid) before averaging, so mixed
/// members average on the same scale. The ensemble does not own its members: dispose them yourself.
/// Give each member its own optimizer object: optimizer state (momentum, Adam moments) lives in the optimizer.
/// </remarks>
public sealed class Ensemble
{
    private readonly Sequential[] _members;

    /// <exception cref="ArgumentException">No members, or a member that is not compiled.</exception>
    public Ensemble(IEnumerable<Sequential> members)
    {
        _members = [.. members];
        if (_members.Length == 0)
            throw new ArgumentException("An ensemble needs at least one model (usually 3 to 10 trained with different seeds).", nameof(members));
        for (int i = 0; i < _members.Length; i++)
            if (_members[i].Loss is null)
                throw new ArgumentException($"Ensemble member {i} is not compiled: compile and fit each model before combining them.", nameof(members));
            else if (_members[i].InputSize != _members[0].InputSize)
                throw new ArgumentException(
                    $"Ensemble member {i} takes {_members[i].InputSize} input features but member 0 takes {_members[0].InputSize} (0: not fitted yet); members must take the same inputs.", nameof(members));
    }

    public IReadOnlyList<Sequential> Members => _members;

    /// <summary>The members' mean predicted probabilities (rows x outputs) for <paramref name="features"/> (rows x inputs, row-major).</summary>
    /// <exception cref="ArgumentException">The members disagree on the number of outputs.</exception>
    public float[] Predict(float[] features, int batchSize = 256)
    {
        float[]? sum = null;
        int outputs = 0;
        for (int i = 0; i < _members.Length; i++)
        {
            var p = Probabilities(_members[i], features, batchSize, out int cols);
            if (sum is null)
            {
                sum = p;
                outputs = cols;
                continue;
            }
            if (cols != outputs || p.Length != sum.Length)
                throw new ArgumentException($"Ensemble member {i} has {cols} outputs but member 0 has {outputs}; members must predict the same classes.");
            for (int j = 0; j < sum.Length; j++) sum[j] += p[j];
        }
        float scale = 1f / _members.Length;
        for (int j = 0; j < sum!.Length; j++) sum[j] *= scale;
        return sum;
    }

    /// <summary>The class of each row by the members' mean probabilities, with its probability (see <see cref="ClassPredictions"/>).</summary>
    public ClassPredictions PredictClasses(float[] features, int batchSize = 256)
    {
        int inputs = _members[0].InputSize > 0 ? _members[0].InputSize
            : throw new InvalidOperationException("Fit or Evaluate the models before PredictClasses (their input width is not known yet).");
        if (features.Length == 0 || features.Length % inputs != 0)
            throw new ArgumentException($"PredictClasses got {features.Length} values, not a whole number of rows of {inputs} features.", nameof(features));
        return ClassPredictions.FromProbabilities(Predict(features, batchSize), features.Length / inputs);
    }

    /// <summary>
    /// Loss and accuracy of the averaged prediction on <paramref name="data"/> (cross-entropy of the mean
    /// probabilities, clipped at 1e-7 as Keras does; mean squared error for regression), and each member's own.
    /// </summary>
    public EnsembleEvaluation Evaluate(Dataset data, int batchSize = 256)
    {
        var members = _members.Select(m => m.Evaluate(data, batchSize)).ToArray();
        var mean = Predict(data.Features, batchSize);
        int cols = mean.Length / data.Count;
        double loss = 0;
        int correct = 0;
        for (int r = 0; r < data.Count; r++)
        {
            var row = mean.AsSpan(r * cols, cols);
            if (data.IsRegression)
            {
                for (int c = 0; c < cols; c++)
                {
                    double d = row[c] - data.Targets![r * data.TargetCount + c];
                    loss += d * d / cols;
                }
                continue;
            }
            int label = data.Labels[r];
            if (cols == 1)
            {
                double p = Math.Clamp(row[0], 1e-7, 1 - 1e-7);
                loss -= label == 1 ? Math.Log(p) : Math.Log(1 - p);
                if ((p >= 0.5 ? 1 : 0) == label) correct++;
            }
            else
            {
                loss -= Math.Log(Math.Clamp(row[label], 1e-7, 1.0));
                int best = 0;
                for (int c = 1; c < cols; c++) if (row[c] > row[best]) best = c;
                if (best == label) correct++;
            }
        }
        double accuracy = data.IsRegression ? double.NaN : (double)correct / data.Count;
        return new EnsembleEvaluation(new EvaluationResult(loss / data.Count, accuracy, data.Count), members);
    }

    private static float[] Probabilities(Sequential model, float[] features, int batchSize, out int cols)
    {
        var output = model.Predict(features, batchSize);
        cols = output.Length / Math.Max(1, features.Length / model.InputSize);
        if (!model.Loss!.FromLogits) return output;
        if (model.Loss is BinaryCrossentropy)
            for (int j = 0; j < output.Length; j++) output[j] = ActivationMath.Sigmoid(output[j]);
        else
            for (int r = 0; r < output.Length; r += cols)
                ActivationMath.SoftmaxRow(output.AsSpan(r, cols), output.AsSpan(r, cols));
        return output;
    }
}
