namespace GpuNet.Models;

/// <summary>
/// Class decisions from predicted probabilities (what Keras users write as <c>np.argmax(model.predict(x), axis=1)</c>,
/// or <c>p &gt; 0.5</c> for one sigmoid output).
/// </summary>
/// <param name="Classes">The predicted class of each row: the most probable one (the first on a tie).</param>
/// <param name="Confidence">The probability of the predicted class, per row.</param>
/// <param name="Probabilities">Per-class probabilities, rows x <paramref name="ClassCount"/>; a single sigmoid output p becomes the two classes [1 - p, p].</param>
/// <param name="ClassCount">Classes per row: the model's outputs, or 2 for a single output.</param>
public sealed record ClassPredictions(int[] Classes, float[] Confidence, float[] Probabilities, int ClassCount)
{
    /// <summary>Decides each row of <paramref name="probabilities"/> (rows x outputs, row-major).</summary>
    /// <exception cref="ArgumentException">The values are not a whole number of rows.</exception>
    public static ClassPredictions FromProbabilities(float[] probabilities, int rows)
    {
        if (rows < 1 || probabilities.Length % rows != 0 || probabilities.Length == 0)
            throw new ArgumentException($"{probabilities.Length} probabilities are not {rows} whole rows.", nameof(probabilities));
        int outputs = probabilities.Length / rows;
        int width = Math.Max(outputs, 2);
        var perClass = new float[rows * width];
        var classes = new int[rows];
        var confidence = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = perClass.AsSpan(r * width, width);
            if (outputs == 1)
            {
                row[0] = 1 - probabilities[r];
                row[1] = probabilities[r];
            }
            else probabilities.AsSpan(r * outputs, outputs).CopyTo(row);
            int best = 0;
            for (int c = 1; c < width; c++) if (row[c] > row[best]) best = c;
            classes[r] = best;
            confidence[r] = row[best];
        }
        return new ClassPredictions(classes, confidence, perClass, width);
    }
}
