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

/// <summary>The scalar definition of each <see cref="UnaryOp"/>: the ILGPU kernel's formula and what every backend is tested against.</summary>
/// <remarks>
/// Kernel-safe (MathF, which ILGPU maps to its intrinsics). The CPU backend runs the same functions through
/// TensorPrimitives' SIMD loops instead, within the contract's tolerance.
/// </remarks>
public static class UnaryMath
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value outside <see cref="UnaryOp"/>.</summary>
    public static void RequireKnown(UnaryOp op)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown unary operation.");
    }

    /// <summary>op(x); an unknown op (rejected on the host) gives 1 / x.</summary>
    public static float Apply(UnaryOp op, float x)
    {
        switch (op)
        {
            case UnaryOp.Exp: return MathF.Exp(x);
            case UnaryOp.Log: return MathF.Log(x);
            default: return 1f / x; // Reciprocal
        }
    }
}
