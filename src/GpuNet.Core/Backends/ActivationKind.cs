namespace GpuNet.Backends;

/// <summary>Element-wise activation functions every backend implements (forward and backward).</summary>
/// <remarks>
/// Formulas (alpha is the per-call parameter, ignored where unused):
/// <list type="bullet">
/// <item>Linear: f(x) = x, f'(x) = 1</item>
/// <item>Step: f(x) = 1 if x &gt; 0 else 0 (forward only: f'(x) is 0 everywhere and undefined at 0)</item>
/// <item>Sigmoid: s(x) = 1 / (1 + e^-x), f'(x) = s(x)(1 - s(x))</item>
/// <item>Tanh: f'(x) = 1 - tanh(x)^2</item>
/// <item>Relu: max(0, x), f'(x) = 1 if x &gt; 0 else 0</item>
/// <item>LeakyRelu: x if x &gt; 0 else alpha x, f'(x) = 1 or alpha</item>
/// <item>Elu: x if x &gt; 0 else alpha (e^x - 1), f'(x) = 1 or alpha e^x</item>
/// <item>Swish (SiLU): x s(x), f'(x) = s(x) + x s(x)(1 - s(x))</item>
/// <item>Softplus: ln(1 + e^x) computed as max(x, 0) + ln(1 + e^-|x|), f'(x) = s(x)</item>
/// <item>Gelu: x Phi(x) with the exact normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2, f'(x) = Phi(x) + x phi(x)</item>
/// <item>Selu (Klambauer et al. 2017): scale (x if x &gt; 0 else a (e^x - 1)) with a = 1.6732632, scale = 1.0507010,
/// f'(x) = scale or scale a e^x: self-normalizing with lecun_normal weights</item>
/// </list>
/// </remarks>
public enum ActivationKind
{
    Linear,
    Step,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    Elu,
    Swish,
    Softplus,
    Gelu,
    Selu,
}
