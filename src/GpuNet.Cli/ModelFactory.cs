using GpuNet.Initializers;
using GpuNet.Layers;
using GpuNet.Losses;
using GpuNet.Models;
using GpuNet.Optimizers;

namespace GpuNet.Cli;

/// <summary>Builds the model, loss and optimizer <c>gpunet train</c> was asked for.</summary>
internal static class ModelFactory
{
    public static Sequential Build(TrainSettings s, LoadedData data)
    {
        int[] hidden = s.Layers ?? (data.IsImage ? [128, 64] : [16, 8]);
        var activation = Activation.Parse(s.Activation);
        var regularizer = s.L1 > 0 || s.L2 > 0 ? new Regularizer(s.L1, s.L2) : null;
        var layers = new List<Layer>();
        for (int i = 0; i < hidden.Length; i++)
        {
            string name = i == 0 ? "dense" : $"dense_{i}";
            if (s.BatchNorm)
            {
                // Dense -> BatchNormalization -> activation, as in Ioffe and Szegedy
                layers.Add(new Dense(hidden[i], useBias: false, kernelInitializer: Initializer.Parse(s.Init), kernelRegularizer: regularizer, name: name));
                layers.Add(new BatchNormalization(name: $"batch_normalization_{i}"));
                layers.Add(new ActivationLayer(activation, name: $"activation_{i}"));
            }
            else layers.Add(new Dense(hidden[i], activation, kernelInitializer: Initializer.Parse(s.Init), kernelRegularizer: regularizer, name: name));
            if (s.Dropout > 0) layers.Add(new Dropout(s.Dropout, name: $"dropout_{i}"));
        }
        layers.Add(data.IsRegression
            ? new Dense(1, "linear", kernelInitializer: Initializer.Parse(s.Init), kernelRegularizer: regularizer, name: $"dense_{hidden.Length}")
            : data.IsBinary
            ? new Dense(1, "sigmoid", kernelInitializer: Initializer.Parse(s.Init), kernelRegularizer: regularizer, name: $"dense_{hidden.Length}")
            : new Dense(data.ClassCount, "softmax", kernelInitializer: Initializer.Parse(s.Init), kernelRegularizer: regularizer, name: $"dense_{hidden.Length}"));
        return new Sequential([.. layers]);
    }

    public static Loss Loss(LoadedData data) =>
        data.IsRegression ? new MeanSquaredError() : data.IsBinary ? new BinaryCrossentropy() : new SparseCategoricalCrossentropy();

    public static Optimizer Optimizer(TrainSettings s, LoadedData data)
    {
        bool adaptive = s.Optimizer is "adagrad" or "rmsprop" or "adam" or "adamw";
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
            throw new ArgumentException($"--lr-schedule works with sgd, momentum, nesterov, rmsprop and adam; --optimizer {s.Optimizer} takes a constant rate.");
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
            _ => new Sgd(schedule),
        };
    }
}
