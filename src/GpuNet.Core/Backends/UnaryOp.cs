namespace GpuNet.Backends;

/// <summary>Element-wise math functions of <see cref="IBackend.Unary"/> (the autograd's exp, log and division).</summary>
/// <remarks>
/// Formulas, with IEEE float32 semantics (no clamping: the caller sees what the math gives):
/// <list type="bullet">
/// <item>Exp: y = e^x (overflows to +inf above x ~ 88.7)</item>
/// <item>Log: y = ln x (-inf at 0, NaN below 0)</item>
/// <item>Reciprocal: y = 1 / x (+-inf at +-0)</item>
/// </list>
/// </remarks>
public enum UnaryOp
{
    Exp,
    Log,
    Reciprocal,
}

/// <summary>The scalar definition of each <see cref="UnaryOp"/>: what every backend is tested against.</summary>
public static class UnaryMath
{
    /// <summary>op(x).</summary>
    public static float Apply(UnaryOp op, float x) => op switch
    {
        UnaryOp.Exp => MathF.Exp(x),
        UnaryOp.Log => MathF.Log(x),
        UnaryOp.Reciprocal => 1f / x,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown unary operation."),
    };
}
