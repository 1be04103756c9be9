namespace GpuNet.Losses;

/// <summary>A training loss. The model builds its graph node when it is compiled.</summary>
public abstract class Loss
{
    public abstract string Name { get; }

    public override string ToString() => Name;
}

/// <summary>
/// Sparse categorical cross-entropy: labels are class indices, L = -(1/B) sum_r log p[r, y_r].
/// </summary>
/// <remarks>
/// With <see cref="FromLogits"/> false (the Keras default) the model's last activation must be softmax;
/// GpuNet then fuses softmax and the loss into one max-subtracted kernel whose gradient is (p - onehot)/B,
/// which is both faster and stabler than differentiating log(softmax). With <see cref="FromLogits"/> true
/// the last layer is linear and the loss applies the softmax itself.
/// </remarks>
public sealed class SparseCategoricalCrossentropy(bool fromLogits = false) : Loss
{
    public bool FromLogits { get; } = fromLogits;

    public override string Name => "sparse_categorical_crossentropy";
}
