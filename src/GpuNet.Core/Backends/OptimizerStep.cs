namespace GpuNet.Backends;

/// <summary>The update rules of <see cref="IBackend.OptimizerUpdate"/>.</summary>
/// <remarks>
/// g is the gradient, w the parameter, lr the learning rate of this step, s1/s2 the per-parameter state:
/// <list type="bullet">
/// <item>Sgd: w -= lr g</item>
/// <item>Momentum (Keras SGD with momentum m = Beta1): s1 = m s1 - lr g; w += s1</item>
/// <item>Nesterov (Keras' form): s1 = m s1 - lr g; w += m s1 - lr g</item>
/// <item>AdaGrad: s1 += g^2; w -= lr g / (sqrt(s1) + eps)</item>
/// <item>RmsProp (rho = Beta2): s1 = rho s1 + (1 - rho) g^2; w -= lr g / (sqrt(s1) + eps)</item>
/// <item>Adam: s1 = b1 s1 + (1 - b1) g; s2 = b2 s2 + (1 - b2) g^2;
///       w -= lr (s1 c1) / (sqrt(s2 c2) + eps), with the bias corrections c1 = 1/(1 - b1^t), c2 = 1/(1 - b2^t)</item>
/// <item>AdamW: w -= lr wd w (decoupled weight decay, Loshchilov and Hutter), then the Adam step</item>
/// <item>Adamax (Kingma and Ba's infinity-norm Adam): s1 = b1 s1 + (1 - b1) g; s2 = max(b2 s2, |g|);
///       w -= lr (s1 c1) / (s2 + eps), with c1 = 1/(1 - b1^t)</item>
/// </list>
/// </remarks>
public enum OptimizerKind
{
    Sgd,
    Momentum,
    Nesterov,
    AdaGrad,
    RmsProp,
    Adam,
    AdamW,
    Adamax,
}

/// <summary>
/// The hyperparameters of one optimizer step, computed on the host (learning-rate schedule, bias
/// corrections for step t) so the device needs no step counter and no synchronization.
/// </summary>
/// <remarks>
/// <see cref="IBackend.OptimizerUpdate"/> takes the constant fields by value and the three that change every step
/// (<see cref="LearningRate"/>, <see cref="BiasCorrection1"/>, <see cref="BiasCorrection2"/>) from a device buffer of step
/// values, written by the step's one upload.
/// </remarks>
public struct OptimizerStep
{
    public OptimizerKind Kind;
    public float LearningRate;
    /// <summary>Momentum (Momentum, Nesterov) or beta_1 (Adam, AdamW).</summary>
    public float Beta1;
    /// <summary>rho (RmsProp) or beta_2 (Adam, AdamW).</summary>
    public float Beta2;
    public float Epsilon;
    /// <summary>AdamW's decoupled weight decay.</summary>
    public float WeightDecay;
    /// <summary>1 / (1 - Beta1^t) for Adam and AdamW; 1 otherwise.</summary>
    public float BiasCorrection1;
    /// <summary>1 / (1 - Beta2^t) for Adam and AdamW; 1 otherwise.</summary>
    public float BiasCorrection2;
}

/// <summary>Random image augmentations applied per sample by <see cref="IBackend.AugmentImages"/>; a zero field disables that step.</summary>
public struct AugmentationSettings
{
    /// <summary>Largest shift in pixels, drawn uniformly in [-MaxShift, MaxShift] for x and y.</summary>
    public float MaxShift;
    /// <summary>Largest rotation about the image centre, in degrees, drawn uniformly in [-max, max].</summary>
    public float MaxRotationDegrees;
    /// <summary>Probability of a horizontal flip (0 or 0.5 usually; digits should not be flipped).</summary>
    public float FlipProbability;
    /// <summary>Largest brightness offset added to every pixel, drawn uniformly in [-max, max].</summary>
    public float MaxBrightness;
    /// <summary>Standard deviation of Gaussian noise added to every pixel.</summary>
    public float NoiseStddev;
    /// <summary>Side of a square set to 0 at a random position (cutout); 0 disables it.</summary>
    public int CutoutSize;
}
