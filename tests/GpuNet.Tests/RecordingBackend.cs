using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using GpuNet.Backends;
using GpuNet.Backends.Cpu;

namespace GpuNet.Tests;

/// <summary>
/// An <see cref="IBackend"/> over a <see cref="CpuBackend"/> that logs every call with its arguments, then forwards it: buffers by
/// identity (which allocation, at which offset, how long), scalars by value, structs by their fields' values, host spans by
/// length. Two training steps whose logs are equal launch the same operations with the same arguments.
/// </summary>
internal sealed class RecordingBackend : IBackend
{
    private readonly CpuBackend _inner = new();
    private readonly Dictionary<object, int> _storage = new(ReferenceEqualityComparer.Instance);

    /// <summary>Every call so far, one line each.</summary>
    public List<string> Calls { get; } = [];

    public string Name => "recording " + _inner.Name;
    public DeviceKind Kind => _inner.Kind;
    public long MemoryBytes => ((IBackend)_inner).MemoryBytes;

    /// <summary>How <paramref name="buffer"/> appears in the log: its allocation's number, offset and length.</summary>
    public string Describe<T>(DeviceBuffer<T> buffer) where T : unmanaged
    {
        var cpu = (CpuBuffer<T>)buffer;
        if (!_storage.TryGetValue(cpu.Array, out int id)) _storage[cpu.Array] = id = _storage.Count;
        return $"{typeof(T).Name}#{id}[{cpu.Offset}+{cpu.Length}]";
    }

    private string Format(object? value) => value switch
    {
        null => "null",
        DeviceBuffer<float> f => Describe(f),
        DeviceBuffer<int> i => Describe(i),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x when value.GetType().IsPrimitive || value.GetType().IsEnum => x.ToString(null, CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        // structs by their public fields (OptimizerStep) or, for the operator records, their properties
        _ when value.GetType().IsValueType => "{" + string.Join(", ", value.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance)
            .Select(f => $"{f.Name}={Format(f.GetValue(value))}")
            .Concat(value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0)
                .Select(p => $"{p.Name}={Format(p.GetValue(value))}"))) + "}",
        _ => throw new NotSupportedException($"No log format for {value.GetType()}."),
    };

    private void Log(string name, object?[] args) => Calls.Add($"{name}({string.Join(", ", args.Select(Format))})");

    public DeviceBuffer<T> Allocate<T>(int length) where T : unmanaged
    {
        var buffer = _inner.Allocate<T>(length);
        Calls.Add($"Allocate<{typeof(T).Name}>({length}) -> {Describe(buffer)}");
        return buffer;
    }

    /// <summary>The data of every int upload, in order (what the step values carried each step).</summary>
    public List<(string Destination, int[] Data)> IntUploads { get; } = [];

    /// <summary>The data of every float upload, in order (the row weights each step carried, among others).</summary>
    public List<(string Destination, float[] Data)> FloatUploads { get; } = [];

    /// <summary>The mask of every dropout launch, in order.</summary>
    public List<float[]> DropoutMasks { get; } = [];

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        Calls.Add($"Upload<{typeof(T).Name}>(host[{source.Length}], {Describe(destination)})");
        if (typeof(T) == typeof(int)) IntUploads.Add((Describe(destination), MemoryMarshal.Cast<T, int>(source).ToArray()));
        if (typeof(T) == typeof(float)) FloatUploads.Add((Describe(destination), MemoryMarshal.Cast<T, float>(source).ToArray()));
        _inner.Upload(source, destination);
    }

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination) where T : unmanaged
    {
        Calls.Add($"Download<{typeof(T).Name}>({Describe(source)}, host[{destination.Length}])");
        _inner.Download(source, destination);
    }

    public void Copy<T>(DeviceBuffer<T> source, DeviceBuffer<T> destination) where T : unmanaged
    {
        Calls.Add($"Copy<{typeof(T).Name}>({Describe(source)}, {Describe(destination)})");
        _inner.Copy(source, destination);
    }

    public void Synchronize()
    {
        Calls.Add("Synchronize()");
        _inner.Synchronize();
    }

    public void Fill(DeviceBuffer<float> buffer, float value) { Log("Fill", [buffer, value]); _inner.Fill(buffer, value); }
    public void Fill(DeviceBuffer<int> buffer, int value) { Log("Fill", [buffer, value]); _inner.Fill(buffer, value); }
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer<float> a, DeviceBuffer<float> b, float beta, DeviceBuffer<float> c) { Log("Gemm", [transA, transB, m, n, k, alpha, a, b, beta, c]); _inner.Gemm(transA, transB, m, n, k, alpha, a, b, beta, c); }
    public void BiasAdd(DeviceBuffer<float> x, DeviceBuffer<float> bias, int rows, int cols) { Log("BiasAdd", [x, bias, rows, cols]); _inner.BiasAdd(x, bias, rows, cols); }
    public void ColumnSum(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> result, bool accumulate) { Log("ColumnSum", [x, rows, cols, result, accumulate]); _inner.ColumnSum(x, rows, cols, result, accumulate); }
    public void Activation(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, int count) { Log("Activation", [kind, alpha, x, y, count]); _inner.Activation(kind, alpha, x, y, count); }
    public void ActivationBackward(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int count, bool accumulate) { Log("ActivationBackward", [kind, alpha, x, y, gradOutput, gradInput, count, accumulate]); _inner.ActivationBackward(kind, alpha, x, y, gradOutput, gradInput, count, accumulate); }
    public void Softmax(DeviceBuffer<float> x, DeviceBuffer<float> y, int rows, int cols) { Log("Softmax", [x, y, rows, cols]); _inner.Softmax(x, y, rows, cols); }
    public void SoftmaxCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<int> labels, int rows, int cols, DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum, DeviceBuffer<float>? rowWeights = null) { Log("SoftmaxCrossEntropy", [logits, labels, rows, cols, probabilities, gradLogits, gradScale, lossSum, rowWeights]); _inner.SoftmaxCrossEntropy(logits, labels, rows, cols, probabilities, gradLogits, gradScale, lossSum, rowWeights); }
    public void CountCorrect(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, int cols, DeviceBuffer<int> correct, DeviceBuffer<float>? rowWeights = null) { Log("CountCorrect", [scores, labels, rows, cols, correct, rowWeights]); _inner.CountCorrect(scores, labels, rows, cols, correct, rowWeights); }
    public void ArgMax(DeviceBuffer<float> scores, int rows, int cols, DeviceBuffer<int> result) { Log("ArgMax", [scores, rows, cols, result]); _inner.ArgMax(scores, rows, cols, result); }
    public void GatherRows(DeviceBuffer<float> source, DeviceBuffer<int> indices, int indexOffset, int count, int cols, DeviceBuffer<float> destination) { Log("GatherRows", [source, indices, indexOffset, count, cols, destination]); _inner.GatherRows(source, indices, indexOffset, count, cols, destination); }
    public void CopyColumns(DeviceBuffer<float> x, int xCols, int xOffset, DeviceBuffer<float> y, int yCols, int yOffset, int rows, int cols, bool accumulate) { Log("CopyColumns", [x, xCols, xOffset, y, yCols, yOffset, rows, cols, accumulate]); _inner.CopyColumns(x, xCols, xOffset, y, yCols, yOffset, rows, cols, accumulate); }
    public void Generate<TOp>(TOp op, DeviceBuffer<float> y, int count) where TOp : struct, IElementGenerator { Log($"Generate<{typeof(TOp).Name}>", [op, y, count]); _inner.Generate(op, y, count); }
    public void Map<TOp>(TOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count, bool accumulate = false) where TOp : struct, IUnaryOperator { Log($"Map<{typeof(TOp).Name}>", [op, x, y, count, accumulate]); _inner.Map(op, x, y, count, accumulate); }
    public void Zip<TOp>(TOp op, DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, int rows, int cols, Broadcast broadcast, bool accumulate) where TOp : struct, IBinaryOperator { Log($"Zip<{typeof(TOp).Name}>", [op, a, b, y, rows, cols, broadcast, accumulate]); _inner.Zip(op, a, b, y, rows, cols, broadcast, accumulate); }
    public void Count<TOp>(TOp predicate, DeviceBuffer<float> a, DeviceBuffer<float> b, int count, DeviceBuffer<int> total) where TOp : struct, IElementPredicate { Log($"Count<{typeof(TOp).Name}>", [predicate, a, b, count, total]); _inner.Count(predicate, a, b, count, total); }
    public void TakeAlongRows(DeviceBuffer<float> x, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> y) { Log("TakeAlongRows", [x, indices, rows, cols, y]); _inner.TakeAlongRows(x, indices, rows, cols, y); }
    public void PutAlongRows(DeviceBuffer<float> values, DeviceBuffer<int> indices, int rows, int cols, DeviceBuffer<float> x) { Log("PutAlongRows", [values, indices, rows, cols, x]); _inner.PutAlongRows(values, indices, rows, cols, x); }
    public void Gather(DeviceBuffer<int> source, DeviceBuffer<int> indices, int indexOffset, int count, DeviceBuffer<int> destination) { Log("Gather", [source, indices, indexOffset, count, destination]); _inner.Gather(source, indices, indexOffset, count, destination); }
    public void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float learningRate) { Log("SgdUpdate", [parameters, gradients, count, learningRate]); _inner.SgdUpdate(parameters, gradients, count, learningRate); }
    public void RandomUniform(DeviceBuffer<float> buffer, float low, float high, ulong seed, uint stream) { Log("RandomUniform", [buffer, low, high, seed, stream]); _inner.RandomUniform(buffer, low, high, seed, stream); }
    public void RandomNormal(DeviceBuffer<float> buffer, float mean, float stddev, ulong seed, uint stream) { Log("RandomNormal", [buffer, mean, stddev, seed, stream]); _inner.RandomNormal(buffer, mean, stddev, seed, stream); }
    public void SoftmaxCrossEntropyDense(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int rows, int cols, DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum, DeviceBuffer<float>? rowWeights = null) { Log("SoftmaxCrossEntropyDense", [logits, targets, rows, cols, probabilities, gradLogits, gradScale, lossSum, rowWeights]); _inner.SoftmaxCrossEntropyDense(logits, targets, rows, cols, probabilities, gradLogits, gradScale, lossSum, rowWeights); }
    public void SigmoidCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int count, DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum, DeviceBuffer<float>? rowWeights = null, int width = 1) { Log("SigmoidCrossEntropy", [logits, targets, count, probabilities, gradLogits, gradScale, lossSum, rowWeights, width]); _inner.SigmoidCrossEntropy(logits, targets, count, probabilities, gradLogits, gradScale, lossSum, rowWeights, width); }
    public void CrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon, DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum, DeviceBuffer<float>? rowWeights = null, int width = 1) { Log("CrossEntropyFromProbabilities", [probabilities, targets, count, epsilon, gradProbabilities, gradScale, lossSum, rowWeights, width]); _inner.CrossEntropyFromProbabilities(probabilities, targets, count, epsilon, gradProbabilities, gradScale, lossSum, rowWeights, width); }
    public void BinaryCrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon, DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum, DeviceBuffer<float>? rowWeights = null, int width = 1) { Log("BinaryCrossEntropyFromProbabilities", [probabilities, targets, count, epsilon, gradProbabilities, gradScale, lossSum, rowWeights, width]); _inner.BinaryCrossEntropyFromProbabilities(probabilities, targets, count, epsilon, gradProbabilities, gradScale, lossSum, rowWeights, width); }
    public void MeanSquaredError(DeviceBuffer<float> predictions, DeviceBuffer<float> targets, int count, DeviceBuffer<float>? gradPredictions, float gradScale, DeviceBuffer<float> lossSum, DeviceBuffer<float>? rowWeights = null, int width = 1) { Log("MeanSquaredError", [predictions, targets, count, gradPredictions, gradScale, lossSum, rowWeights, width]); _inner.MeanSquaredError(predictions, targets, count, gradPredictions, gradScale, lossSum, rowWeights, width); }
    public void CountCorrectBinary(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, float threshold, DeviceBuffer<int> correct, DeviceBuffer<float>? rowWeights = null) { Log("CountCorrectBinary", [scores, labels, rows, threshold, correct, rowWeights]); _inner.CountCorrectBinary(scores, labels, rows, threshold, correct, rowWeights); }
    public void CountCorrectMultiLabel(DeviceBuffer<float> scores, DeviceBuffer<float> targets, int count, float threshold, DeviceBuffer<int> correct, DeviceBuffer<float>? rowWeights = null, int width = 1) { Log("CountCorrectMultiLabel", [scores, targets, count, threshold, correct, rowWeights, width]); _inner.CountCorrectMultiLabel(scores, targets, count, threshold, correct, rowWeights, width); }
    public void SoftmaxBackward(DeviceBuffer<float> y, DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int rows, int cols, bool accumulate) { Log("SoftmaxBackward", [y, gradOutput, gradInput, rows, cols, accumulate]); _inner.SoftmaxBackward(y, gradOutput, gradInput, rows, cols, accumulate); }
    public void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> result, int count, bool accumulate) { Log("Multiply", [a, b, result, count, accumulate]); _inner.Multiply(a, b, result, count, accumulate); }
    public void Unary(UnaryOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count) { Log("Unary", [op, x, y, count]); _inner.Unary(op, x, y, count); }
    public void Scale(DeviceBuffer<float> buffer, int count, float factor) { Log("Scale", [buffer, count, factor]); _inner.Scale(buffer, count, factor); }
    public void ColumnAffine(DeviceBuffer<float> x, DeviceBuffer<float> scale, DeviceBuffer<float>? shift, DeviceBuffer<float> y, int rows, int cols, bool accumulate) { Log("ColumnAffine", [x, scale, shift, y, rows, cols, accumulate]); _inner.ColumnAffine(x, scale, shift, y, rows, cols, accumulate); }
    public void Dropout(DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> mask, int count, float rate, ulong seed, uint purpose, DeviceBuffer<int> stepValues, int stepIndex)
    {
        Log("Dropout", [x, y, mask, count, rate, seed, purpose, stepValues, stepIndex]);
        _inner.Dropout(x, y, mask, count, rate, seed, purpose, stepValues, stepIndex);
        DropoutMasks.Add(((CpuBuffer<float>)mask).Span[..count].ToArray());
    }
    public void L1L2Penalty(DeviceBuffer<float> parameters, int count, float l1, float l2, DeviceBuffer<float> lossSum) { Log("L1L2Penalty", [parameters, count, l1, l2, lossSum]); _inner.L1L2Penalty(parameters, count, l1, l2, lossSum); }
    public void L1L2Gradient(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float l1, float l2) { Log("L1L2Gradient", [parameters, gradients, count, l1, l2]); _inner.L1L2Gradient(parameters, gradients, count, l1, l2); }
    public void ClipByValue(DeviceBuffer<float> x, int count, float limit) { Log("ClipByValue", [x, count, limit]); _inner.ClipByValue(x, count, limit); }
    public void ScaleToMaxNorm(DeviceBuffer<float> x, int count, DeviceBuffer<float> sumSquares, float maxNorm) { Log("ScaleToMaxNorm", [x, count, sumSquares, maxNorm]); _inner.ScaleToMaxNorm(x, count, sumSquares, maxNorm); }
    public void BatchNormTraining(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float momentum, float epsilon, DeviceBuffer<float>? rowWeights = null) { Log("BatchNormTraining", [x, rows, cols, gamma, beta, y, savedMean, savedInvStd, runningMean, runningVariance, momentum, epsilon, rowWeights]); _inner.BatchNormTraining(x, rows, cols, gamma, beta, y, savedMean, savedInvStd, runningMean, runningVariance, momentum, epsilon, rowWeights); }
    public void BatchNormInference(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float epsilon, DeviceBuffer<float> y) { Log("BatchNormInference", [x, rows, cols, gamma, beta, runningMean, runningVariance, epsilon, y]); _inner.BatchNormInference(x, rows, cols, gamma, beta, runningMean, runningVariance, epsilon, y); }
    public void BatchNormBackward(DeviceBuffer<float> x, DeviceBuffer<float> gradOutput, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float>? gradInput, DeviceBuffer<float> gradGamma, DeviceBuffer<float> gradBeta, bool accumulateInput, bool accumulateParameters, DeviceBuffer<float>? rowWeights = null) { Log("BatchNormBackward", [x, gradOutput, rows, cols, gamma, savedMean, savedInvStd, gradInput, gradGamma, gradBeta, accumulateInput, accumulateParameters, rowWeights]); _inner.BatchNormBackward(x, gradOutput, rows, cols, gamma, savedMean, savedInvStd, gradInput, gradGamma, gradBeta, accumulateInput, accumulateParameters, rowWeights); }
    public void Maxout(DeviceBuffer<float> x, int rows, int units, int pieces, DeviceBuffer<float> y, DeviceBuffer<int> argMax) { Log("Maxout", [x, rows, units, pieces, y, argMax]); _inner.Maxout(x, rows, units, pieces, y, argMax); }
    public void MaxoutBackward(DeviceBuffer<float> gradOutput, DeviceBuffer<int> argMax, int rows, int units, int pieces, DeviceBuffer<float> gradInput, bool accumulate) { Log("MaxoutBackward", [gradOutput, argMax, rows, units, pieces, gradInput, accumulate]); _inner.MaxoutBackward(gradOutput, argMax, rows, units, pieces, gradInput, accumulate); }
    public void OptimizerUpdate(OptimizerStep step, DeviceBuffer<int> stepValues, int valueIndex, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count) { Log("OptimizerUpdate", [step, stepValues, valueIndex, parameters, gradients, state1, state2, count]); _inner.OptimizerUpdate(step, stepValues, valueIndex, parameters, gradients, state1, state2, count); }
    public void AugmentImages(DeviceBuffer<float> source, DeviceBuffer<float> destination, int rows, int height, int width, AugmentationSettings settings, ulong seed, DeviceBuffer<int> stepValues, int stepIndex) { Log("AugmentImages", [source, destination, rows, height, width, settings, seed, stepValues, stepIndex]); _inner.AugmentImages(source, destination, rows, height, width, settings, seed, stepValues, stepIndex); }

    public void Dispose() => _inner.Dispose();
}
