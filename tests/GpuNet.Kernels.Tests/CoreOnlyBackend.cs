using GpuNet.Backends;

namespace GpuNet.Kernels.Tests;

/// <summary>
/// Forwards the thin core's primitives to another backend and leaves every fused operation to its composed default
/// (<see cref="ComposedOps"/>), except the three whole-buffer fills (Fill, RandomUniform, RandomNormal): their
/// compositions check that the buffer belongs to the backend they are called on, and this wrapper's buffers belong to
/// the inner backend (<see cref="ThinBackend"/> runs those compositions).
/// </summary>
public sealed class CoreOnlyBackend(IBackend inner) : IBackend
{
    public string Name => inner.Name;
    public DeviceKind Kind => inner.Kind;
    public void Dispose() { }
    public DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged => inner.Allocate<T>(length);
    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination) where T : unmanaged => inner.Upload(source, destination);
    public void Download<T>(DeviceBuffer<T> source, Span<T> destination) where T : unmanaged => inner.Download(source, destination);
    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination) where T : unmanaged => inner.Copy(source, destination);
    public void Fill(DeviceBuffer<int> buffer, int value) => inner.Fill(buffer, value);
    public void Fill(DeviceBuffer<float> buffer, float value) => inner.Fill(buffer, value);
    public void RandomUniform(DeviceBuffer<float> buffer, float low, float high, ulong seed, uint stream) => inner.RandomUniform(buffer, low, high, seed, stream);
    public void RandomNormal(DeviceBuffer<float> buffer, float mean, float stddev, ulong seed, uint stream) => inner.RandomNormal(buffer, mean, stddev, seed, stream);
    public void Synchronize() => inner.Synchronize();
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c) =>
        inner.Gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
    public void ColumnSum(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result, bool accumulate) => inner.ColumnSum(x, rows, cols, result, accumulate);
    public void Generate<TOp>(TOp op, DeviceBuffer<float> y, int count) where TOp : struct, IElementGenerator => inner.Generate(op, y, count);
    public void Map<TOp>(TOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count, bool accumulate = false) where TOp : struct, IUnaryOperator =>
        inner.Map(op, x, y, count, accumulate);
    public void Zip<TOp>(TOp op, DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, int rows, int cols, Broadcast broadcast, bool accumulate)
        where TOp : struct, IBinaryOperator => inner.Zip(op, a, b, y, rows, cols, broadcast, accumulate);
    public void Count<TOp>(TOp predicate, DeviceBuffer<float> a, DeviceBuffer<float> b, int count, DeviceBuffer<int> total) where TOp : struct, IElementPredicate =>
        inner.Count(predicate, a, b, count, total);
    public void Softmax(DeviceBuffer<float> x, DeviceBuffer<float> y, int rows, int cols) => inner.Softmax(x, y, rows, cols);
    public void ArgMax(DeviceBuffer<float> scores, int rows, int cols, DeviceBuffer<int> result) => inner.ArgMax(scores, rows, cols, result);
    public void TakeAlongRows(DeviceBuffer<float> x, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> y) => inner.TakeAlongRows(x, indices, rows, cols, y);
    public void PutAlongRows(DeviceBuffer<float> values, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> x) => inner.PutAlongRows(values, indices, rows, cols, x);
    public void GatherRows(DeviceBuffer<float> source, DeviceBuffer<int> indices, int indexOffset, int count, int cols, DeviceBuffer<float> destination) =>
        inner.GatherRows(source, indices, indexOffset, count, cols, destination);
    public void CopyColumns(DeviceBuffer<float> x, int xCols, int xOffset, DeviceBuffer<float> y, int yCols, int yOffset, int rows, int cols, bool accumulate) =>
        inner.CopyColumns(x, xCols, xOffset, y, yCols, yOffset, rows, cols, accumulate);
    public void Gather(DeviceBuffer<int> source, DeviceBuffer<int> indices, int indexOffset, int count, DeviceBuffer<int> destination) =>
        inner.Gather(source, indices, indexOffset, count, destination);
}
