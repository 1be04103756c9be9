using System.Collections;
using System.Runtime.CompilerServices;

namespace GpuNet.Graph;

/// <summary>
/// The shape of one sample: (d1, ..., dk), every dimension at least 1. The batch comes first and is implied, so a
/// batch of samples of shape (28, 28) is (batch, 28, 28), written <c>(None, 28, 28)</c> as in Keras.
/// </summary>
/// <remarks>
/// Storage does not depend on the shape: a sample is <see cref="Size"/> floats in row-major order (the last axis
/// varies fastest), one row of a tensor per sample. A (28, 28) image and its (784) flattening hold the same floats in
/// the same order, which is why a reshape is a view and costs nothing. Shapes compare by their dimensions.
/// A collection expression makes one: <c>Shape image = [28, 28];</c>.
/// </remarks>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[] _dims;

    /// <param name="dims">The dimensions of one sample, each at least 1 (the batch is not included).</param>
    /// <exception cref="ArgumentException">No dimension, a dimension below 1, or more than <see cref="int.MaxValue"/> values per sample.</exception>
    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0)
            throw new ArgumentException("A shape needs at least one dimension, e.g. new Shape(784) or new Shape(28, 28).", nameof(dims));
        long size = 1;
        foreach (int d in dims)
        {
            if (d < 1)
                throw new ArgumentException($"Every dimension of a shape must be at least 1; received ({string.Join(", ", dims)}).", nameof(dims));
            size *= d;
            if (size > int.MaxValue)
                throw new ArgumentException($"Shape ({string.Join(", ", dims)}) has more than {int.MaxValue} values per sample.", nameof(dims));
        }
        _dims = [.. dims];
        Size = (int)size;
    }

    /// <summary>A shape of <paramref name="dims"/> (what a collection expression <c>[28, 28]</c> calls).</summary>
    public static Shape Create(ReadOnlySpan<int> dims) => new(dims.ToArray());

    /// <summary>The number of dimensions of a sample (1 for a flat row of features).</summary>
    public int Rank => _dims.Length;

    /// <summary>Values per sample: the product of the dimensions (a tensor's <see cref="Tensor.Cols"/>).</summary>
    public int Size { get; }

    /// <summary>The dimension on <paramref name="axis"/> (0 is the first dimension after the batch).</summary>
    public int this[int axis] => _dims[axis];

    /// <summary>The last dimension: the features a Dense layer maps.</summary>
    public int Last => _dims[^1];

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => [.. _dims];

    int IReadOnlyCollection<int>.Count => _dims.Length;

    /// <summary>A shape of this size with one dimension: what <c>Flatten</c> makes of it.</summary>
    public Shape Flatten() => Rank == 1 ? this : new Shape(Size);

    /// <summary>This shape with its last dimension replaced by <paramref name="last"/> (what a Dense layer of that many units makes of it).</summary>
    public Shape WithLast(int last)
    {
        var dims = ToArray();
        dims[^1] = last;
        return new Shape(dims);
    }

    /// <summary>
    /// The shape <paramref name="target"/> names for samples of this size, as in Keras' <c>Reshape</c> and PyTorch's
    /// <c>view</c>: one dimension may be -1, and is then the size divided by the product of the others.
    /// </summary>
    /// <exception cref="ArgumentException">More than one -1, a dimension of 0 or below -1, or sizes that differ; the message names both shapes.</exception>
    public Shape Reshape(params int[] target)
    {
        ArgumentNullException.ThrowIfNull(target);
        string Target() => $"(None, {string.Join(", ", target)})";
        if (target.Length == 0)
            throw new ArgumentException($"Cannot reshape {WithBatch()} to (None): give at least one dimension, e.g. Reshape({Size}) or Reshape(-1).", nameof(target));
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == -1)
            {
                if (inferred >= 0)
                    throw new ArgumentException($"Cannot reshape {WithBatch()} to {Target()}: only one dimension can be -1 (inferred).", nameof(target));
                inferred = i;
            }
            else if (target[i] < 1)
                throw new ArgumentException($"Cannot reshape {WithBatch()} to {Target()}: dimensions must be at least 1, or -1 for one inferred dimension.", nameof(target));
            else known *= target[i];
        }
        var dims = (int[])target.Clone();
        if (inferred >= 0)
        {
            if (known > Size || Size % known != 0)
                throw new ArgumentException(
                    $"Cannot reshape {WithBatch()} ({Size} values per sample) to {Target()}: {Size} is not a multiple of {known}, so no size fits the -1.", nameof(target));
            dims[inferred] = (int)(Size / known);
        }
        else if (known != Size)
            throw new ArgumentException(
                $"Cannot reshape {WithBatch()} ({Size} values per sample) to {Target()} ({known} values per sample): a reshape keeps the number of values.", nameof(target));
        return new Shape(dims);
    }

    /// <summary>The shape with the batch in front, as Keras prints it: <c>(None, 28, 28)</c>.</summary>
    public string WithBatch() => $"(None, {string.Join(", ", _dims)})";

    /// <summary>The dimensions in parentheses: <c>(28, 28)</c>, and <c>(784,)</c> for one dimension, as in Python.</summary>
    public override string ToString() => Rank == 1 ? $"({_dims[0]},)" : $"({string.Join(", ", _dims)})";

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    public override bool Equals(object? obj) => Equals(obj as Shape);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int d in _dims) hash.Add(d);
        return hash.ToHashCode();
    }

    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _dims.GetEnumerator();
}
