namespace GpuNet.Backends;

/// <summary>The operations behind the lecture's losses, regularizers, layers, optimizers and augmentations.</summary>
/// <remarks>
/// <para>Each is optional: its default body composes it from the core primitives (<see cref="ComposedOps"/>,
/// correct on any backend but with more launches and scratch memory); CpuBackend and IlgpuBackend
/// implement each one as a single fused pass.</para>
/// <para>Loss operations add the summed loss to lossSum[0] (never reset here) and, when a gradient buffer is
/// given, write gradScale * d(sum)/d(input) into it (overwriting). Callers pass gradScale = 1 / (elements
/// averaged over). All count-based operations are element-wise over the first <c>count</c> elements.</para>
/// <para>Row weights (the <c>rowWeights</c> argument of the losses, the accuracy counts and batch normalization): null, or a
/// 2 x R matrix for the R rows of the call (R = count / width for the element-wise ones, whose element i is in row
/// i / width). Row 0 holds the loss weights and row 1 the gradient weights. A row whose loss weight is 0 is padding: it adds
/// exactly nothing to a loss sum, a count or a batch statistic and gets a zero gradient, whatever its values (NaN
/// included). Any other row r adds rowWeights[r] x its loss and gets gradScale x rowWeights[R + r] x its gradient.
/// A training step pads a smaller last batch to the batch capacity with loss weights 1 for its A real rows and 0 after,
/// and gradient weights 1 / A for the real rows (see <c>StepValues.RowWeights</c>), so every step launches the same
/// operations with the same arguments; null is every row with loss weight 1 and gradient weight 1.</para>
/// </remarks>
public partial interface IBackend
{
    // ---- element-wise and training basics --------------------------------------------------

    /// <summary>Sets every element of <paramref name="buffer"/> to <paramref name="value"/>.</summary>
    void Fill(DeviceBuffer<float> buffer, float value) =>
        ComposedOps.Fill(this, buffer, value);

    /// <summary>x[r, c] += bias[c] for an R x C matrix, in place.</summary>
    void BiasAdd(DeviceBuffer<float> x, DeviceBuffer<float> bias, int rows, int cols) =>
        ComposedOps.BiasAdd(this, x, bias, rows, cols);

    /// <summary>y = f(x) element-wise over the first <paramref name="count"/> elements. y may alias x.</summary>
    void Activation(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, int count) =>
        ComposedOps.Activation(this, kind, alpha, x, y, count);

    /// <summary>
    /// gradInput = gradOutput * f'(x) (added when <paramref name="accumulate"/>), element-wise.
    /// Backends use whichever of the pre-activation <paramref name="x"/> and the output <paramref name="y"/>
    /// is cheaper (sigmoid and tanh use y). Throws <see cref="NotSupportedException"/> for Step.
    /// </summary>
    void ActivationBackward(ActivationKind kind, float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y,
        DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int count, bool accumulate) =>
        ComposedOps.ActivationBackward(this, kind, alpha, x, y, gradOutput, gradInput, count, accumulate);

    /// <summary>
    /// Fused softmax + sparse categorical cross-entropy on R x C logits with integer labels.
    /// </summary>
    /// <param name="logits">R x C pre-softmax scores.</param>
    /// <param name="labels">R class indices in [0, C).</param>
    /// <param name="probabilities">R x C softmax output, or null when not needed.</param>
    /// <param name="gradLogits">R x C gradient of (gradScale * total loss) w.r.t. the logits:
    /// gradScale * (p - onehot(label)); null for a forward-only (evaluation) pass.</param>
    /// <param name="gradScale">Usually 1 / R, the gradient of the batch mean.</param>
    /// <param name="lossSum">lossSum[0] += sum_r -log p[r, label_r] (accumulated, never reset here).</param>
    /// <remarks>
    /// -log p is computed as log(sum exp(x - max)) - (x_label - max), so it is finite even where p
    /// underflows to 0. A label outside [0, C) contributes NaN to the loss (no host check inside a step).
    /// </remarks>
    void SoftmaxCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<int> labels, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale,
        DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null) =>
        ComposedOps.SoftmaxCrossEntropy(this, logits, labels, rows, cols, probabilities, gradLogits, gradScale, lossSum, rowWeights);

    /// <summary>correct[0] += number of rows r whose argmax over scores[r, :] equals labels[r] (first max wins).</summary>
    void CountCorrect(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, int cols, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null) =>
        ComposedOps.CountCorrect(this, scores, labels, rows, cols, correct, rowWeights);

    /// <summary>Plain SGD over the first <paramref name="count"/> elements: param -= learningRate * grad.</summary>
    void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float learningRate) =>
        ComposedOps.SgdUpdate(this, parameters, gradients, count, learningRate);

    /// <summary>
    /// Plain SGD with the learning rate read on the device: param -= stepValues[rateIndex] (float bits) * grad over the first
    /// <paramref name="count"/> elements, so a user-written optimizer's update launches with the same arguments every step
    /// while its schedule moves the rate. It is <see cref="OptimizerUpdate"/>'s Sgd rule, which reads the three values from
    /// <paramref name="rateIndex"/> (the two after the rate, bias corrections, are not used).
    /// </summary>
    void SgdUpdate(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, DeviceBuffer<int> stepValues, int rateIndex) =>
        OptimizerUpdate(new OptimizerStep { Kind = OptimizerKind.Sgd }, stepValues, rateIndex, parameters, gradients, null, null, count);

    /// <summary>
    /// Fills <paramref name="buffer"/> with uniform numbers in [low, high) from the counter-based
    /// <see cref="Philox"/> generator: element i uses counter (i, stream) and key seed, so every
    /// backend produces the same numbers (up to float rounding of the affine map).
    /// </summary>
    void RandomUniform(DeviceBuffer<float> buffer, float low, float high, ulong seed, uint stream) =>
        ComposedOps.RandomUniform(this, buffer, low, high, seed, stream);

    /// <summary>Fills <paramref name="buffer"/> with normal numbers N(mean, stddev^2) (Box-Muller on Philox uniforms).</summary>
    void RandomNormal(DeviceBuffer<float> buffer, float mean, float stddev, ulong seed, uint stream) =>
        ComposedOps.RandomNormal(this, buffer, mean, stddev, seed, stream);

    // ---- losses ----------------------------------------------------------------------------

    /// <summary>
    /// Fused softmax + categorical cross-entropy with dense (one-hot or soft) R x C targets:
    /// loss_r = -sum_c t[r,c] log softmax(x_r)[c]; grad = gradScale (p sum_c t[r,c] - t).
    /// </summary>
    void SoftmaxCrossEntropyDense(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int rows, int cols,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null) =>
        ComposedOps.SoftmaxCrossEntropyDense(this, logits, targets, rows, cols, probabilities, gradLogits, gradScale, lossSum, rowWeights);

    /// <summary>
    /// Fused sigmoid + binary cross-entropy, element-wise: loss = max(x, 0) - x t + log(1 + e^-|x|)
    /// (= -(t log s + (1 - t) log(1 - s)) without overflow); grad = gradScale (s - t); probabilities = s.
    /// </summary>
    void SigmoidCrossEntropy(DeviceBuffer<float> logits, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? probabilities, DeviceBuffer<float>? gradLogits, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ComposedOps.SigmoidCrossEntropy(this, logits, targets, count, probabilities, gradLogits, gradScale, lossSum, rowWeights, width);

    /// <summary>
    /// Cross-entropy from probabilities, element-wise: loss = -t log(clip(p, eps, 1 - eps));
    /// grad = -gradScale t / clip(p). Summing a row gives categorical cross-entropy.
    /// </summary>
    void CrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon,
        DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ComposedOps.CrossEntropyFromProbabilities(this, probabilities, targets, count, epsilon, gradProbabilities, gradScale, lossSum, rowWeights, width);

    /// <summary>
    /// Binary cross-entropy from probabilities: loss = -(t log pc + (1 - t) log(1 - pc)) with
    /// pc = clip(p, eps, 1 - eps); grad = gradScale (pc - t) / (pc (1 - pc)).
    /// </summary>
    void BinaryCrossEntropyFromProbabilities(DeviceBuffer<float> probabilities, DeviceBuffer<float> targets, int count, float epsilon,
        DeviceBuffer<float>? gradProbabilities, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ComposedOps.BinaryCrossEntropyFromProbabilities(this, probabilities, targets, count, epsilon, gradProbabilities, gradScale, lossSum, rowWeights, width);

    /// <summary>Squared error, element-wise: loss = (p - t)^2; grad = gradScale 2 (p - t).</summary>
    void MeanSquaredError(DeviceBuffer<float> predictions, DeviceBuffer<float> targets, int count,
        DeviceBuffer<float>? gradPredictions, float gradScale, DeviceBuffer<float> lossSum,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ComposedOps.MeanSquaredError(this, predictions, targets, count, gradPredictions, gradScale, lossSum, rowWeights, width);

    /// <summary>correct[0] += number of r in [0, rows) with (scores[r] &gt; threshold ? 1 : 0) == labels[r] (one output column).</summary>
    void CountCorrectBinary(DeviceBuffer<float> scores, DeviceBuffer<int> labels, int rows, float threshold, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null) =>
        ComposedOps.CountCorrectBinary(this, scores, labels, rows, threshold, correct, rowWeights);

    /// <summary>
    /// correct[0] += number of i in [0, count) with (scores[i] &gt; threshold) == (targets[i] &gt; 0.5): Keras' binary accuracy
    /// of several labels per sample, every (sample, label) pair counted on its own.
    /// </summary>
    void CountCorrectMultiLabel(DeviceBuffer<float> scores, DeviceBuffer<float> targets, int count, float threshold, DeviceBuffer<int> correct,
        DeviceBuffer<float>? rowWeights = null, int width = 1) =>
        ComposedOps.CountCorrectMultiLabel(this, scores, targets, count, threshold, correct, rowWeights, width);

    // ---- layers ----------------------------------------------------------------------------

    /// <summary>Softmax backward from its output y (R x C): dx = y (dy - sum_c dy y), added when accumulate.</summary>
    void SoftmaxBackward(DeviceBuffer<float> y, DeviceBuffer<float> gradOutput, DeviceBuffer<float> gradInput, int rows, int cols, bool accumulate) =>
        ComposedOps.SoftmaxBackward(this, y, gradOutput, gradInput, rows, cols, accumulate);

    /// <summary>result (+)= a * b element-wise.</summary>
    void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> result, int count, bool accumulate) =>
        ComposedOps.Multiply(this, a, b, result, count, accumulate);

    /// <summary>y = op(x) element-wise over the first <paramref name="count"/> elements (see <see cref="UnaryOp"/>). y may alias x.</summary>
    void Unary(UnaryOp op, DeviceBuffer<float> x, DeviceBuffer<float> y, int count) =>
        ComposedOps.Unary(this, op, x, y, count);

    /// <summary>buffer *= factor.</summary>
    void Scale(DeviceBuffer<float> buffer, int count, float factor) =>
        ComposedOps.Scale(this, buffer, count, factor);

    /// <summary>y[r,c] (+)= x[r,c] scale[c] + shift[c] (shift may be null): a per-feature affine map.</summary>
    void ColumnAffine(DeviceBuffer<float> x, DeviceBuffer<float> scale, DeviceBuffer<float>? shift, DeviceBuffer<float> y,
        int rows, int cols, bool accumulate) =>
        ComposedOps.ColumnAffine(this, x, scale, shift, y, rows, cols, accumulate);

    /// <summary>
    /// Inverted dropout: mask[i] = 1/(1 - rate) if u_i &gt;= rate else 0, y = x mask, where u_i is the
    /// Philox uniform of <see cref="Philox.ForStep"/>(i, step, purpose, seed). Backward is Multiply(dy, mask).
    /// </summary>
    /// <param name="stepValues">The step values: the training step is the 64-bit counter in stepValues[stepIndex] (low word)
    /// and stepValues[stepIndex + 1] (high word), read on the device (see <see cref="StepValueMath"/>), so every step
    /// launches with the same arguments.</param>
    /// <param name="stepIndex">Where the step counter is in <paramref name="stepValues"/>.</param>
    void Dropout(DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> mask, int count, float rate, ulong seed, uint purpose,
        DeviceBuffer<int> stepValues, int stepIndex) =>
        ComposedOps.Dropout(this, x, y, mask, count, rate, seed, purpose, stepValues, stepIndex);

    /// <summary>lossSum[0] += l1 sum |w| + l2 sum w^2 (the Keras L1L2 penalty).</summary>
    void L1L2Penalty(DeviceBuffer<float> parameters, int count, float l1, float l2, DeviceBuffer<float> lossSum) =>
        ComposedOps.L1L2Penalty(this, parameters, count, l1, l2, lossSum);

    /// <summary>grad += l1 sign(w) + 2 l2 w.</summary>
    void L1L2Gradient(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, int count, float l1, float l2) =>
        ComposedOps.L1L2Gradient(this, parameters, gradients, count, l1, l2);

    /// <summary>
    /// x[i] = limit if x[i] &gt; limit, -limit if x[i] &lt; -limit, else x[i] (NaN stays NaN), for i &lt; count:
    /// Keras' clipvalue on the gradients.
    /// </summary>
    void ClipByValue(DeviceBuffer<float> x, int count, float limit) =>
        ComposedOps.ClipByValue(this, x, count, limit);

    /// <summary>
    /// With n = sqrt(sumSquares[0]): x[i] *= maxNorm / n for i &lt; count when n &gt; maxNorm, else unchanged
    /// (Keras' global_clipnorm: the gradient keeps its direction, its norm becomes at most maxNorm). sumSquares[0]
    /// is the squared norm of x, from <see cref="L1L2Penalty"/>(x, count, 0, 1, sumSquares) on a zeroed buffer; it
    /// is read on the device, so clipping needs no host synchronization.
    /// </summary>
    void ScaleToMaxNorm(DeviceBuffer<float> x, int count, DeviceBuffer<float> sumSquares, float maxNorm) =>
        ComposedOps.ScaleToMaxNorm(this, x, count, sumSquares, maxNorm);

    /// <summary>
    /// Batch normalization in training over R x C (statistics per column over the rows):
    /// mean, biased variance var; savedInvStd = 1/sqrt(var + eps); y = gamma (x - mean) savedInvStd + beta;
    /// running = momentum running + (1 - momentum) batch statistic (mean and var). With <c>rowWeights</c> (see the remarks),
    /// the statistics are weighted by the gradient weights over the rows whose loss weight is not 0: mean = sum_r u_r x_r,
    /// var = sum_r u_r (x_r - mean)^2 with u_r = rowWeights[R + r] (1 / A over a padded batch's A real rows); padding rows are
    /// normalized with them too.
    /// </summary>
    void BatchNormTraining(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> y, DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float momentum, float epsilon,
        DeviceBuffer<float>? rowWeights = null) =>
        ComposedOps.BatchNormTraining(this, x, rows, cols, gamma, beta, y, savedMean, savedInvStd, runningMean, runningVariance, momentum, epsilon, rowWeights);

    /// <summary>Batch normalization in inference: y = gamma (x - runningMean) / sqrt(runningVariance + eps) + beta.</summary>
    void BatchNormInference(DeviceBuffer<float> x, int rows, int cols, DeviceBuffer<float> gamma, DeviceBuffer<float> beta,
        DeviceBuffer<float> runningMean, DeviceBuffer<float> runningVariance, float epsilon, DeviceBuffer<float> y) =>
        ComposedOps.BatchNormInference(this, x, rows, cols, gamma, beta, runningMean, runningVariance, epsilon, y);

    /// <summary>
    /// Batch normalization backward (training statistics): xhat = (x - mean) invStd; dbeta = sum_r dy;
    /// dgamma = sum_r dy xhat; dx = gamma invStd / R (R dy - dbeta - xhat dgamma). gradInput may be null.
    /// With <c>rowWeights</c>: the sums run over the rows whose loss weight is not 0, dx_r = gamma invStd (dy_r - u_r (dbeta +
    /// xhat_r dgamma)) with u_r = rowWeights[R + r] (the exact gradient of the weighted statistics), and padding rows get dx = 0.
    /// </summary>
    void BatchNormBackward(DeviceBuffer<float> x, DeviceBuffer<float> gradOutput, int rows, int cols, DeviceBuffer<float> gamma,
        DeviceBuffer<float> savedMean, DeviceBuffer<float> savedInvStd, DeviceBuffer<float>? gradInput,
        DeviceBuffer<float> gradGamma, DeviceBuffer<float> gradBeta, bool accumulateInput, bool accumulateParameters,
        DeviceBuffer<float>? rowWeights = null) =>
        ComposedOps.BatchNormBackward(this, x, gradOutput, rows, cols, gamma, savedMean, savedInvStd, gradInput, gradGamma, gradBeta, accumulateInput, accumulateParameters, rowWeights);

    /// <summary>Maxout: x is R x (units * pieces), y[r,u] = max_k x[r, u pieces + k], argMax[r,u] = the k (first max wins).</summary>
    void Maxout(DeviceBuffer<float> x, int rows, int units, int pieces, DeviceBuffer<float> y, DeviceBuffer<int> argMax) =>
        ComposedOps.Maxout(this, x, rows, units, pieces, y, argMax);

    /// <summary>Maxout backward: dx[r, u pieces + k] (+)= dy[r,u] if k == argMax[r,u] else 0.</summary>
    void MaxoutBackward(DeviceBuffer<float> gradOutput, DeviceBuffer<int> argMax, int rows, int units, int pieces,
        DeviceBuffer<float> gradInput, bool accumulate) =>
        ComposedOps.MaxoutBackward(this, gradOutput, argMax, rows, units, pieces, gradInput, accumulate);

    // ---- optimization and data -------------------------------------------------------------

    /// <summary>
    /// One fused optimizer step over every parameter (see <see cref="OptimizerKind"/> for the rules).
    /// state1 is needed by all but Sgd, state2 by Adam, AdamW and Adamax; both start at zero (AdaGrad's at its initial accumulator).
    /// </summary>
    /// <param name="step">The rule and its constant hyperparameters (betas, epsilon, weight decay). Its LearningRate,
    /// BiasCorrection1 and BiasCorrection2 are not read: they change every step and come from <paramref name="stepValues"/>.</param>
    /// <param name="stepValues">The step values: this step's learning rate, bias correction 1 and bias correction 2 as float bits in
    /// stepValues[valueIndex], [valueIndex + 1] and [valueIndex + 2], read on the device (<see cref="OptimizerMath.WithStepValues"/>),
    /// so every step launches with the same arguments.</param>
    /// <param name="valueIndex">Where the learning rate is in <paramref name="stepValues"/>.</param>
    void OptimizerUpdate(OptimizerStep step, DeviceBuffer<int> stepValues, int valueIndex, DeviceBuffer<float> parameters,
        DeviceBuffer<float> gradients, DeviceBuffer<float>? state1, DeviceBuffer<float>? state2, int count) =>
        ComposedOps.OptimizerUpdate(this, step, stepValues, valueIndex, parameters, gradients, state1, state2, count);

    /// <summary>
    /// Random per-sample augmentation of R images of height x width (see <see cref="AugmentMath"/> for
    /// the exact transform): destination must not alias source.
    /// </summary>
    /// <param name="stepValues">The step values: the training step, which draws new transforms, is the 64-bit counter in
    /// stepValues[stepIndex] (low word) and stepValues[stepIndex + 1] (high word), read on the device.</param>
    /// <param name="stepIndex">Where the step counter is in <paramref name="stepValues"/>.</param>
    void AugmentImages(DeviceBuffer<float> source, DeviceBuffer<float> destination, int rows, int height, int width,
        AugmentationSettings settings, ulong seed, DeviceBuffer<int> stepValues, int stepIndex) =>
        ComposedOps.AugmentImages(this, source, destination, rows, height, width, settings, seed, stepValues, stepIndex);
}
