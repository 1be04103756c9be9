using System.Numerics;
using System.Runtime.CompilerServices;

namespace GpuNet.Backends;

/// <summary>
/// The float arithmetic a shared formula is written in, over a number type <typeparamref name="T"/>: one
/// float (<see cref="ScalarMath"/>: the CPU's scalar code and the ILGPU kernels) or a SIMD register of
/// floats (<see cref="VectorMath"/>: the CPU's bulk loops). A formula written once as a generic method
/// over <c>TMath : struct, IFloatMath&lt;T&gt;</c>, calling these on <c>default(TMath)</c>, is compiled
/// for each: the JIT specializes struct type arguments (no interface call is left), and ILGPU resolves
/// the constrained calls to the struct's methods, whose MathF calls it maps to the same intrinsics as XMath.
/// </summary>
/// <remarks>
/// Instance methods rather than static abstract members: ILGPU 1.5 resolves constrained instance calls,
/// and a formula's operations keep the order they are written in (no operator overloads to regroup),
/// so every backend rounds the same way.
/// </remarks>
public interface IFloatMath<T> where T : struct
{
    /// <summary>The value <paramref name="value"/> (in every lane).</summary>
    T Constant(float value);
    T Add(T a, T b);
    T Subtract(T a, T b);
    T Multiply(T a, T b);
    T Divide(T a, T b);
    /// <summary>The correctly rounded square root (IEEE), so scalar and vector lanes agree exactly.</summary>
    T Sqrt(T x);
    /// <summary>The larger of a and b (exact).</summary>
    T Max(T a, T b);
    /// <summary>|x| (exact).</summary>
    T Abs(T x);
}

/// <summary>
/// <see cref="IFloatMath{T}"/> over one float: plain operators and <see cref="MathF"/>, which ILGPU maps to
/// its math intrinsics in a kernel (as it maps XMath), so the same method runs on the CPU and compiles to PTX.
/// </summary>
public readonly struct ScalarMath : IFloatMath<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Constant(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Subtract(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Divide(float a, float b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Sqrt(float x) => MathF.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Max(float a, float b) => MathF.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Abs(float x) => MathF.Abs(x);
}

/// <summary>
/// <see cref="IFloatMath{T}"/> over <see cref="Vector{T}"/> of float (AVX2 or AVX-512 on x64): lane by lane
/// the same IEEE operations as <see cref="ScalarMath"/>, so a SIMD loop and its scalar tail agree bit for bit.
/// CPU only: kernels never see it.
/// </summary>
public readonly struct VectorMath : IFloatMath<Vector<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Constant(float value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Add(Vector<float> a, Vector<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Subtract(Vector<float> a, Vector<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Multiply(Vector<float> a, Vector<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Divide(Vector<float> a, Vector<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Sqrt(Vector<float> x) => Vector.SquareRoot(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Max(Vector<float> a, Vector<float> b) => Vector.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Abs(Vector<float> x) => Vector.Abs(x);
}
