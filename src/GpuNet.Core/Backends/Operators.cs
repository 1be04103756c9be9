using System.Runtime.CompilerServices;

namespace GpuNet.Backends;

/// <summary>Element <c>i</c> of a generated buffer (<see cref="IBackend.Generate{TOp}"/>): a constant, a random draw.</summary>
/// <remarks>
/// Operator structs run inside ILGPU kernels as well as in the CPU backend's loops, so they must be
/// kernel-safe: unmanaged fields only, float arithmetic and MathF, no allocation, no exceptions.
/// </remarks>
public interface IElementGenerator
{
    float At(int index);
}

/// <summary>y = f(x), element by element (<see cref="IBackend.Map{TOp}"/>). Kernel-safe, as <see cref="IElementGenerator"/>.</summary>
public interface IUnaryOperator
{
    float Apply(float x);
}

/// <summary>y = f(a, b), element by element (<see cref="IBackend.Zip{TOp}"/>). Kernel-safe, as <see cref="IElementGenerator"/>.</summary>
public interface IBinaryOperator
{
    float Apply(float a, float b);
}

/// <summary>Whether an element pair counts (<see cref="IBackend.Count{TOp}"/>). Kernel-safe, as <see cref="IElementGenerator"/>.</summary>
public interface IElementPredicate
{
    bool Test(float a, float b);
}

/// <summary>How the second operand b of <see cref="IBackend.Zip{TOp}"/> spans an R x C first operand a.</summary>
public enum Broadcast
{
    /// <summary>b is R x C, as a.</summary>
    None,
    /// <summary>b is one row of C values, the same for every row (a bias, a per-feature scale).</summary>
    Rows,
    /// <summary>b is one column of R values, the same for every column (a per-row sum).</summary>
    Columns,
    /// <summary>b is a single value.</summary>
    Scalar,
}

/// <summary>The operator structs the composed default operations (<see cref="ComposedOps"/>) are built from; a user may pass them too.</summary>
/// <remarks>Each formula is the shared one (<see cref="ActivationMath"/>, <see cref="LossMath"/>, <see cref="LayerMath"/>,
/// <see cref="RandomMath"/>): the composed path and the fused kernels compute the same thing.</remarks>
public static class ElementOps
{
    /// <summary>Every element the same value.</summary>
    public readonly record struct Constant(float Value) : IElementGenerator
    {
        public float At(int index) => Value;
    }

    /// <summary>Low + Scale * U[0, 1): <see cref="IBackend.RandomUniform"/>'s draw for element i.</summary>
    public readonly record struct Uniform(uint Stream, ulong Seed, float Low, float Scale) : IElementGenerator
    {
        public float At(int index) => RandomMath.Uniform(index, Stream, Seed, Low, Scale);
    }

    /// <summary>N(Mean, Stddev^2): <see cref="IBackend.RandomNormal"/>'s draw for element i.</summary>
    public readonly record struct Normal(uint Stream, ulong Seed, float Mean, float Stddev) : IElementGenerator
    {
        public float At(int index) => RandomMath.Normal(Philox.ForElement(index, Stream, Seed), Mean, Stddev);
    }

    /// <summary>Inverted dropout's factor (0 or KeepScale) for element i at a training step.</summary>
    public readonly record struct DropoutMask(ulong Step, uint Purpose, ulong Seed, float Rate, float KeepScale) : IElementGenerator
    {
        public float At(int index) => RandomMath.DropoutFactor(index, Step, Purpose, Seed, Rate, KeepScale);
    }

    /// <summary>f(x) of an activation.</summary>
    public readonly record struct Activation(ActivationKind Kind, float Alpha) : IUnaryOperator
    {
        public float Apply(float x) => ActivationMath.Forward(Kind, Alpha, x);
    }

    /// <summary>exp, log or 1/x.</summary>
    public readonly record struct Unary(UnaryOp Op) : IUnaryOperator
    {
        public float Apply(float x) => UnaryMath.Apply(Op, x);
    }

    /// <summary>x * Scale + Shift.</summary>
    public readonly record struct Affine(float Scale, float Shift) : IUnaryOperator
    {
        public float Apply(float x) => x * Scale + Shift;
    }

    /// <summary>x squared.</summary>
    public readonly record struct Square : IUnaryOperator
    {
        public float Apply(float x) => x * x;
    }

    /// <summary>|x|.</summary>
    public readonly record struct Abs : IUnaryOperator
    {
        public float Apply(float x) => MathF.Abs(x);
    }

    /// <summary>1 / sqrt(x + Epsilon): batch normalization's inverse standard deviation.</summary>
    public readonly record struct InverseSqrt(float Epsilon) : IUnaryOperator
    {
        public float Apply(float x) => 1f / MathF.Sqrt(x + Epsilon);
    }

    /// <summary>x clipped to [-Limit, Limit].</summary>
    public readonly record struct ClipByValue(float Limit) : IUnaryOperator
    {
        public float Apply(float x) => LayerMath.ClipByValue(x, Limit);
    }

    /// <summary>The factor that scales a tensor of squared norm x to norm at most MaxNorm: min(1, MaxNorm / sqrt(x)).</summary>
    public readonly record struct MaxNormFactor(float MaxNorm) : IUnaryOperator
    {
        public float Apply(float x)
        {
            float norm = MathF.Sqrt(x);
            return norm > MaxNorm ? MaxNorm / norm : 1f;
        }
    }

    /// <summary>The L1/L2 penalty of one weight: L1 |w| + L2 w^2.</summary>
    public readonly record struct L1L2Penalty(float L1, float L2) : IUnaryOperator
    {
        public float Apply(float x) => L1 * MathF.Abs(x) + L2 * x * x;
    }

    /// <summary>The L1/L2 penalty's gradient for one weight.</summary>
    public readonly record struct L1L2Gradient(float L1, float L2) : IUnaryOperator
    {
        public float Apply(float x) => LayerMath.L1L2Gradient(x, L1, L2);
    }

    /// <summary>1 where x > Threshold, else 0.</summary>
    public readonly record struct Above(float Threshold) : IUnaryOperator
    {
        public float Apply(float x) => x > Threshold ? 1f : 0f;
    }

    /// <summary>a + b.</summary>
    public readonly record struct Add : IBinaryOperator
    {
        public float Apply(float a, float b) => a + b;
    }

    /// <summary>a - b.</summary>
    public readonly record struct Subtract : IBinaryOperator
    {
        public float Apply(float a, float b) => a - b;
    }

    /// <summary>a * b.</summary>
    public readonly record struct Multiply : IBinaryOperator
    {
        public float Apply(float a, float b) => a * b;
    }

    /// <summary>a / b.</summary>
    public readonly record struct Divide : IBinaryOperator
    {
        public float Apply(float a, float b) => a / b;
    }

    /// <summary>Alpha a + Beta b: the moving averages and the update steps of the optimizers.</summary>
    public readonly record struct Combine(float Alpha, float Beta) : IBinaryOperator
    {
        public float Apply(float a, float b) => Alpha * a + Beta * b;
    }

    /// <summary>Alpha a + Beta b^2 (RMSProp's and Adam's second moment).</summary>
    public readonly record struct CombineSquare(float Alpha, float Beta) : IBinaryOperator
    {
        public float Apply(float a, float b) => Alpha * a + Beta * b * b;
    }

    /// <summary>lr (a C1) / (sqrt(b C2) + Epsilon): the adaptive step (AdaGrad and RMSProp with C1 = C2 = 1, Adam with its bias corrections).</summary>
    public readonly record struct AdaptiveStep(float LearningRate, float C1, float C2, float Epsilon) : IBinaryOperator
    {
        public float Apply(float a, float b) => LearningRate * (a * C1) / (MathF.Sqrt(b * C2) + Epsilon);
    }

    /// <summary>max(Beta a, |b|): Adamax's infinity-norm moment.</summary>
    public readonly record struct MaxOfScaledAndAbs(float Beta) : IBinaryOperator
    {
        public float Apply(float a, float b) => MathF.Max(Beta * a, MathF.Abs(b));
    }

    /// <summary>lr (a C1) / (b + Epsilon): Adamax's step.</summary>
    public readonly record struct InfinityNormStep(float LearningRate, float C1, float Epsilon) : IBinaryOperator
    {
        public float Apply(float a, float b) => LearningRate * (a * C1) / (b + Epsilon);
    }

    /// <summary>f'(x) of an activation from x (a) and y = f(x) (b).</summary>
    public readonly record struct ActivationDerivative(ActivationKind Kind, float Alpha) : IBinaryOperator
    {
        public float Apply(float a, float b) => ActivationMath.Derivative(Kind, Alpha, a, b);
    }

    /// <summary>Sigmoid cross-entropy from logits x (a) and targets t (b).</summary>
    public readonly record struct SigmoidCrossEntropy : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.SigmoidCrossEntropy(a, b);
    }

    /// <summary>The gradient of <see cref="SigmoidCrossEntropy"/> from s = sigmoid(x) (a) and t (b), times Scale.</summary>
    public readonly record struct SigmoidCrossEntropyGradient(float Scale) : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.SigmoidCrossEntropyGradient(a, b, Scale);
    }

    /// <summary>-t log clip(p): categorical cross-entropy of one probability p (a) and target t (b).</summary>
    public readonly record struct CrossEntropy(float Epsilon) : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.CrossEntropy(LossMath.Clip(a, Epsilon), b);
    }

    /// <summary>The gradient of <see cref="CrossEntropy"/> with respect to p, times Scale.</summary>
    public readonly record struct CrossEntropyGradient(float Epsilon, float Scale) : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.CrossEntropyGradient(LossMath.Clip(a, Epsilon), b, Scale);
    }

    /// <summary>Binary cross-entropy of one probability p (a) and target t (b).</summary>
    public readonly record struct BinaryCrossEntropy(float Epsilon) : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.BinaryCrossEntropy(LossMath.Clip(a, Epsilon), b);
    }

    /// <summary>The gradient of <see cref="BinaryCrossEntropy"/> with respect to p, times Scale.</summary>
    public readonly record struct BinaryCrossEntropyGradient(float Epsilon, float Scale) : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.BinaryCrossEntropyGradient(LossMath.Clip(a, Epsilon), b, Scale);
    }

    /// <summary>(p - t)^2.</summary>
    public readonly record struct SquaredError : IBinaryOperator
    {
        public float Apply(float a, float b)
        {
            float d = a - b;
            return d * d;
        }
    }

    /// <summary>The gradient of <see cref="SquaredError"/> with respect to p, times Scale.</summary>
    public readonly record struct SquaredErrorGradient(float Scale) : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.SquaredErrorGradient(a - b, Scale);
    }

    /// <summary>a weighted by b (a row's loss and its row weight): b a, or exactly 0 where b is 0 (padding, even a NaN a).</summary>
    public readonly record struct Weighted : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.Weighted(a, b);
    }

    /// <summary>a, or exactly 0 where the row weight b is 0 (a padding row's value, even NaN, dropped).</summary>
    public readonly record struct Masked : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.Masked(a, b);
    }

    /// <summary>1 where <see cref="MultiLabelHit"/> holds for score a and target b, else 0 (a hit as a value, to weight).</summary>
    public readonly record struct MultiLabelHitValue(float Threshold) : IBinaryOperator
    {
        public float Apply(float a, float b) => LossMath.MultiLabelHit(a, b, Threshold) ? 1f : 0f;
    }

    /// <summary>a == b.</summary>
    public readonly record struct Equal : IElementPredicate
    {
        public bool Test(float a, float b) => a == b;
    }

    /// <summary>a == Value (b ignored).</summary>
    public readonly record struct Is(float Value) : IElementPredicate
    {
        public bool Test(float a, float b) => a == Value;
    }

    /// <summary>Multi-label binary accuracy: (score a > Threshold) agrees with (target b > 0.5).</summary>
    public readonly record struct MultiLabelHit(float Threshold) : IElementPredicate
    {
        public bool Test(float a, float b) => LossMath.MultiLabelHit(a, b, Threshold);
    }

    /// <summary>The index of b for element <paramref name="index"/> of an R x C operand under <paramref name="broadcast"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BroadcastIndex(Broadcast broadcast, int index, int cols) => broadcast switch
    {
        Broadcast.Rows => index % cols,
        Broadcast.Columns => index / cols,
        Broadcast.Scalar => 0,
        _ => index,
    };

    /// <summary>The elements b needs for an R x C operand under <paramref name="broadcast"/>.</summary>
    public static long BroadcastLength(Broadcast broadcast, int rows, int cols) => broadcast switch
    {
        Broadcast.None => (long)rows * cols,
        Broadcast.Rows => rows == 0 ? 0 : cols,
        Broadcast.Columns => cols == 0 ? 0 : rows,
        Broadcast.Scalar => rows == 0 || cols == 0 ? 0 : 1,
        _ => throw new ArgumentOutOfRangeException(nameof(broadcast), broadcast, "Unknown broadcast."),
    };
}
