using GpuNet.Initializers;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;

namespace GpuNet.Cli;

/// <summary>Builds the model, loss and optimizer <c>gpunet train</c> was asked for.</summary>
internal static class ModelFactory
{
    /// <summary>The hidden layers of <c>--layers</c> (with <c>--activation</c>, <c>--batchnorm</c> and <c>--dropout</c>
    /// applied to each Dense or Maxout item), then the output layer the loss asks for.</summary>
    public static Sequential Build(TrainSettings s, LoadedData data)
    {
        LayerSpec[] hidden = s.Layers ?? (data.IsImage ? [new LayerSpec.DenseLayer(128, null), new LayerSpec.DenseLayer(64, null)]
                                                        : [new LayerSpec.DenseLayer(16, null), new LayerSpec.DenseLayer(8, null)]);
        var activation = ActivationSpec.Parse(s.Activation, "--activation");
        var regularizer = s.L1 > 0 || s.L2 > 0 ? new Regularizer(s.L1, s.L2) : null;
        var layers = new List<Layer>();
        if (data.IsImage && s.Scaler == "standard") layers.Add(new Normalization("normalization").Adapt(data.Train, perFeature: false));
        var counts = new Dictionary<string, int>();
        // Keras' names: the first Dense is "dense", then dense_1, ...; the others count from 0 as before (dropout_0, ...)
        string Name(string kind)
        {
            int n = counts.GetValueOrDefault(kind);
            counts[kind] = n + 1;
            return kind == "dense" && n == 0 ? kind : $"{kind}_{n}";
        }
        Dense NewDense(int units, Activation a, bool useBias = true) =>
            new(units, a, useBias: useBias, kernelInitializer: Initializer.Parse(s.Init), kernelRegularizer: regularizer, name: Name("dense"));

        foreach (var spec in hidden)
        {
            switch (spec)
            {
                case LayerSpec.DenseLayer d:
                    var a = d.Activation ?? activation;
                    if (a.IsMaxout) layers.Add(new Maxout(d.Units, a.MaxoutPieces, name: Name("maxout")));
                    else if (s.BatchNorm)
                    {
                        // Dense -> BatchNormalization -> activation, as in Ioffe and Szegedy
                        layers.Add(NewDense(d.Units, Activation.Linear, useBias: false));
                        layers.Add(new BatchNormalization(name: Name("batch_normalization")));
                        layers.Add(new ActivationLayer(a.Activation!, name: Name("activation")));
                    }
                    else layers.Add(NewDense(d.Units, a.Activation!));
                    if (s.Dropout > 0) layers.Add(new Dropout(s.Dropout, name: Name("dropout")));
                    break;
                case LayerSpec.DropoutLayer r:
                    layers.Add(new Dropout(r.Rate, name: Name("dropout")));
                    break;
                case LayerSpec.BatchNormLayer:
                    layers.Add(new BatchNormalization(name: Name("batch_normalization")));
                    break;
            }
        }
        var (units, output) = OutputOf(s, data);
        layers.Add(NewDense(units, output));
        return new Sequential([.. layers]);
    }

    /// <summary>
    /// The loss of <c>--loss</c> (auto: MSE for a numeric target, binary cross-entropy for two classes, sparse
    /// categorical cross-entropy otherwise), from logits with <c>--from-logits</c>.
    /// </summary>
    public static Loss Loss(TrainSettings s, LoadedData data) => LossName(s, data) switch
    {
        "mse" => new MeanSquaredError(),
        "binary_crossentropy" => new BinaryCrossentropy(s.FromLogits),
        "categorical_crossentropy" => new CategoricalCrossentropy(s.FromLogits),
        _ => new SparseCategoricalCrossentropy(s.FromLogits),
    };

    /// <summary>The training set with label-smoothed one-hot rows, y (1 - ls) + ls / classes (the test set keeps its labels).</summary>
    public static Data.Dataset Smoothed(Data.Dataset train, float ls, int classes)
    {
        var targets = Data.Tabular.Encoding.ToCategorical(train.Labels, classes);
        for (int i = 0; i < targets.Length; i++) targets[i] = targets[i] * (1 - ls) + ls / classes;
        return Data.Dataset.WithTargets(train.Name, train.Features, targets, train.FeatureCount, classes);
    }

    /// <summary>The output layer's width and activation for the loss: sigmoid for binary cross-entropy (and MSE on
    /// two classes), softmax for the categorical ones (and MSE on more), linear for a numeric target or from logits.</summary>
    private static (int Units, Activation Activation) OutputOf(TrainSettings s, LoadedData data)
    {
        string loss = LossName(s, data);
        if (data.IsRegression) return (1, Activation.Linear);
        if (data.IsMultiLabel) return (data.ClassCount, s.FromLogits ? Activation.Linear : Activation.Sigmoid); // one sigmoid per label
        bool single = loss == "binary_crossentropy" || (loss == "mse" && data.IsBinary);
        var squash = single ? Activation.Sigmoid : Activation.Softmax;
        return (single ? 1 : data.ClassCount, s.FromLogits ? Activation.Linear : squash);
    }

    /// <summary>The loss's Keras name, checked against the data and <c>--from-logits</c>.</summary>
    private static string LossName(TrainSettings s, LoadedData data)
    {
        string loss = s.Loss != "auto" ? s.Loss : data.IsRegression ? "mse" : data.IsBinary || data.IsMultiLabel ? "binary_crossentropy"
            : s.LabelSmoothing > 0 ? "categorical_crossentropy" : "sparse_categorical_crossentropy";
        if (s.LabelSmoothing > 0 && (loss != "categorical_crossentropy" || data.IsBinary || data.IsMultiLabel))
            throw new ArgumentException($"--label-smoothing {s.LabelSmoothing} softens one-hot targets for categorical cross-entropy over 3 or more classes; " +
                                        (data.IsBinary || data.IsRegression ? "this data has " + (data.IsRegression ? "a numeric target" : "two classes (one sigmoid output)") + ", so drop it."
                                                                           : $"use it with --loss categorical_crossentropy (or leave --loss out), not {loss}."));
        if (data.IsRegression && loss != "mse")
            throw new ArgumentException($"--loss {loss} needs classes, but the target '{data.Preprocessor!.Target}' is predicted as a number; " +
                                        "use --loss mse, or --task classification to treat its values as classes.");
        if (data.IsMultiLabel && loss is "categorical_crossentropy" or "sparse_categorical_crossentropy")
            throw new ArgumentException($"--loss {loss} picks one class per row, but the target '{data.Preprocessor!.Target}' is several labels at once; " +
                                        "use --loss binary_crossentropy (the default for it: one sigmoid per label) or mse.");
        if (loss == "binary_crossentropy" && !data.IsBinary && !data.IsMultiLabel)
            throw new ArgumentException($"--loss binary_crossentropy needs two classes, but the data has {data.ClassCount}; " +
                                        "use categorical_crossentropy or sparse_categorical_crossentropy (softmax over the classes).");
        if (loss == "mse" && s.FromLogits)
            throw new ArgumentException("--from-logits applies to the cross-entropy losses; mean squared error compares the outputs as they are. Drop --from-logits.");
        return loss;
    }

    public static Optimizer Optimizer(TrainSettings s, LoadedData data)
    {
        bool adaptive = s.Optimizer is "adagrad" or "rmsprop" or "adam" or "adamw" or "adamax";
        float lr = s.LearningRate ?? (adaptive ? 0.001f : 0.01f);
        int trainRows = data.Train.Count - (int)Math.Round(data.Train.Count * s.ValidationSplit);
        long stepsPerEpoch = s.Optimizer == "gd" ? 1 : Math.Max(1, (trainRows + s.BatchSize - 1) / s.BatchSize);
        LearningRateSchedule schedule = s.Schedule switch
        {
            "step" => new StepDecay(lr, 0.5f, 10),
            "exponential" => new ExponentialDecay(lr, stepsPerEpoch, 0.96f),
            "cosine" => new CosineDecay(lr, stepsPerEpoch * s.Epochs),
            "inverse-time" => new InverseTimeDecay(lr, s.Decay),
            _ => new ConstantLearningRate(lr),
        };
        if (s.Optimizer == "gd" && s.Schedule != "constant")
            throw new ArgumentException("--optimizer gd takes a constant learning rate; drop --lr-schedule or use --optimizer sgd.");
        if (s.Optimizer is "adagrad" or "adamw" && s.Schedule != "constant")
            throw new ArgumentException($"--lr-schedule works with sgd, momentum, nesterov, rmsprop, adam and adamax; --optimizer {s.Optimizer} takes a constant rate.");
        var optimizer = Rule(s, lr, schedule);
        optimizer.ClipValue = s.ClipValue;
        optimizer.ClipNorm = s.ClipNorm;
        optimizer.GlobalClipNorm = s.GlobalClipNorm;
        return optimizer;
    }

    private static Optimizer Rule(TrainSettings s, float lr, LearningRateSchedule schedule)
    {
        return s.Optimizer switch
        {
            "momentum" => new Sgd(schedule, s.Momentum),
            "nesterov" => new Sgd(schedule, s.Momentum, nesterov: true),
            "gd" => new GradientDescent(lr),
            "adagrad" => new AdaGrad(lr),
            "rmsprop" => new RmsProp(schedule),
            "adam" => new Adam(schedule),
            "adamw" => new AdamW(lr),
            "adamax" => new Adamax(schedule),
            _ => new Sgd(schedule),
        };
    }
}
