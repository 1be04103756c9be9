using System.CommandLine;
using System.Globalization;
using GpuNet.Backends;

namespace GpuNet.Cli;

/// <summary>Everything <c>gpunet train</c> was asked for, validated.</summary>
internal sealed record TrainSettings
{
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;
    public string Dataset { get; init; } = "mnist10k";
    public string? DataFolder { get; init; }
    public string? Target { get; init; }
    public string Task { get; init; } = "auto";
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 64;
    public float? LearningRate { get; init; }
    public string Optimizer { get; init; } = "sgd";
    public float Momentum { get; init; } = 0.9f;
    public string Schedule { get; init; } = "constant";
    public float Decay { get; init; } = 1e-4f;
    public LayerSpec[]? Layers { get; init; }
    public string Activation { get; init; } = "relu";
    /// <summary>auto (from the data), or a Keras loss name.</summary>
    public string Loss { get; init; } = "auto";
    public bool FromLogits { get; init; }
    /// <summary>Keras' label_smoothing of categorical cross-entropy: training targets y (1 - ls) + ls / classes.</summary>
    public float LabelSmoothing { get; init; }
    /// <summary>auto (standard for CSV, pixels / 255 for images), standard, minmax or none.</summary>
    public string Scaler { get; init; } = "auto";
    public string Init { get; init; } = "glorot_uniform";
    public float L1 { get; init; }
    public float L2 { get; init; }
    public float Dropout { get; init; }
    public bool BatchNorm { get; init; }
    public AugmentationSettings? Augmentation { get; init; }
    public string? AugmentationText { get; init; }
    public int? EarlyStoppingPatience { get; init; }
    public int? ReduceLrPatience { get; init; }
    public double ReduceLrFactor { get; init; } = 0.1;
    public double MinLearningRate { get; init; }
    public float? ClipValue { get; init; }
    public float? ClipNorm { get; init; }
    public float? GlobalClipNorm { get; init; }
    public int Seed { get; init; } = 42;
    public double ValidationSplit { get; init; } = 0.2;
    public string? SavePath { get; init; }
    public int Ensemble { get; init; } = 1;
    public bool GradientNorms { get; init; }
    public string? CheckpointPath { get; init; }
    public string? PlotPath { get; init; }
    public string? HistoryPath { get; init; }
    public string? ResumePath { get; init; }
    /// <summary>Layers whose weights Fit leaves as they are (Keras' layer.trainable = False).</summary>
    public string[] Freeze { get; init; } = [];

    /// <summary>The options given on the command line (not defaulted), e.g. "--lr".</summary>
    public IReadOnlySet<string> Given { get; init; } = new HashSet<string>();

    /// <summary>Keras' verbose: "auto" (a progress bar on a terminal, else a line per epoch), "0" (nothing per epoch), "1" (the bar), "2" (a line per epoch).</summary>
    public string Verbose { get; init; } = "auto";
}

/// <summary>The options of <c>gpunet train</c>, each validated with a message that names the value and what is expected.</summary>
internal sealed class TrainOptions
{
    private readonly Option<string> _device = DeviceOption.Create();
    private readonly Option<string> _dataset = new("--dataset") { Description = "mnist10k (shipped), mnist (the full 60,000 + 10,000), fashion-mnist, or csv:PATH (with --target).", DefaultValueFactory = _ => "mnist10k" };
    private readonly Option<string?> _data = new("--data") { Description = "A folder of IDX files (train-*/t10k-* sets, or one images/labels pair to split 80/20); overrides --dataset." };
    private readonly Option<string?> _target = new("--target") { Description = "The label column of a CSV dataset; several comma-separated columns (each 0/1, no/yes) make a multi-label target, one sigmoid output per label." };
    private readonly Option<string> _task = new("--task") { Description = "For a CSV target: auto (a number with fractions or many values is regression), classification or regression.", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> _epochs = new("--epochs") { Description = "Passes over the training data.", DefaultValueFactory = _ => 30 };
    private readonly Option<int> _batchSize = new("--batch-size") { Description = "Samples per gradient step.", DefaultValueFactory = _ => 64 };
    private readonly Option<float?> _lr = new("--lr") { Description = "Learning rate (default: 0.01 for SGD and GD variants, 0.001 for AdaGrad, RMSprop, Adam and AdamW)." };
    private readonly Option<string> _optimizer = new("--optimizer") { Description = "sgd, momentum, nesterov, gd (full batch), adagrad, rmsprop, adam, adamw or adamax.", DefaultValueFactory = _ => "sgd" };
    private readonly Option<float> _momentum = new("--momentum") { Description = "Momentum of --optimizer momentum / nesterov.", DefaultValueFactory = _ => 0.9f };
    private readonly Option<string> _schedule = new("--lr-schedule") { Description = "constant, step (x0.5 every 10 epochs), exponential (x0.96 per epoch), cosine (to 0 over the run) or inverse-time (lr / (1 + decay * iteration)).", DefaultValueFactory = _ => "constant" };
    private readonly Option<float> _decay = new("--decay") { Description = "The decay of --lr-schedule inverse-time.", DefaultValueFactory = _ => 1e-4f };
    private readonly Option<string?> _layers = new("--layers") { Description = "Hidden layers: widths (128,64) or a layer spec such as 128:relu,dropout:0.3,64:leaky_relu:0.1,32:maxout:3,batchnorm (default 128,64 for images, 16,8 for CSV)." };
    private readonly Option<string> _activation = new("--activation") { Description = "Hidden activation: relu, sigmoid, tanh, leaky_relu[:ALPHA], elu[:ALPHA], swish, softplus, gelu, selu, linear, step, or maxout:K (Maxout layers of K pieces).", DefaultValueFactory = _ => "relu" };
    private readonly Option<string> _loss = new("--loss") { Description = "auto (sparse categorical cross-entropy for classes, binary for two, mse for a numeric target), mse, binary_crossentropy, categorical_crossentropy or sparse_categorical_crossentropy.", DefaultValueFactory = _ => "auto" };
    private readonly Option<float> _labelSmoothing = new("--label-smoothing") { Description = "Train on soft targets y (1 - ls) + ls / classes with categorical cross-entropy (Keras' label_smoothing), in [0, 1).", DefaultValueFactory = _ => 0f };
    private readonly Option<bool> _fromLogits = new("--from-logits") { Description = "The output layer is linear and the loss applies softmax (or sigmoid) itself, as Keras' from_logits=True." };
    private readonly Option<string> _scaler = new("--scaler") { Description = "Feature scaling: auto (standard for CSV, pixels / 255 for images), standard (zero mean, unit variance, fitted on the training split), minmax ([0, 1]) or none.", DefaultValueFactory = _ => "auto" };
    private readonly Option<string> _init = new("--init") { Description = "Kernel initializer: glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal, lsuv, random_normal, random_uniform, zeros, ones.", DefaultValueFactory = _ => "glorot_uniform" };
    private readonly Option<float> _l1 = new("--l1") { Description = "L1 penalty on every kernel (with --l2: elastic net).", DefaultValueFactory = _ => 0f };
    private readonly Option<float> _l2 = new("--l2") { Description = "L2 penalty on every kernel.", DefaultValueFactory = _ => 0f };
    private readonly Option<float> _dropout = new("--dropout") { Description = "Dropout rate after each hidden layer, in [0, 1).", DefaultValueFactory = _ => 0f };
    private readonly Option<bool> _batchNorm = new("--batchnorm") { Description = "Batch normalization before each hidden activation." };
    private readonly Option<string?> _augment = new("--augment") { Description = "Image augmentation, e.g. shift=2,rotation=10,flip=0.5,brightness=0.1,noise=0.05,cutout=6 (or 'default')." };
    private readonly Option<int?> _earlyStopping = new("--early-stopping") { Description = "Stop when val_loss (loss without validation) has not improved for this many epochs, and keep the best epoch's weights." };
    private readonly Option<int?> _reduceLr = new("--reduce-lr-on-plateau") { Description = "Multiply the learning rate by --reduce-lr-factor when val_loss (loss without validation) has not improved for this many epochs." };
    private readonly Option<double> _reduceLrFactor = new("--reduce-lr-factor") { Description = "The factor of --reduce-lr-on-plateau, in (0, 1).", DefaultValueFactory = _ => 0.1 };
    private readonly Option<double> _minLr = new("--min-lr") { Description = "--reduce-lr-on-plateau never lowers the learning rate below this.", DefaultValueFactory = _ => 0.0 };
    private readonly Option<float?> _clipValue = new("--clip-value") { Description = "Clip every gradient element to [-V, V] before each update (Keras' clipvalue)." };
    private readonly Option<float?> _clipNorm = new("--clip-norm") { Description = "Scale each weight tensor's gradient down when its norm exceeds N (Keras' clipnorm): against exploding gradients." };
    private readonly Option<float?> _globalClipNorm = new("--global-clip-norm") { Description = "Scale all gradients down together when their joint norm exceeds N (Keras' global_clipnorm)." };
    private readonly Option<int> _ensemble = new("--ensemble") { Description = "Train this many models with consecutive seeds and report the test accuracy of their averaged probabilities.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _verbose = new("--verbose") { Description = "As Keras: 1 a progress bar per epoch (on a terminal; a line per epoch when the output is redirected), 2 a line per epoch, 0 nothing per epoch; auto is 1.", DefaultValueFactory = _ => "auto" };
    private readonly Option<bool> _gradientNorms = new("--gradient-norms") { Description = "Before training, print each layer's gradient size (RMS of dLoss/dW on one batch): the lecture's vanishing gradients." };
    private readonly Option<string?> _checkpoint = new("--checkpoint") { Description = "During training, save the best epoch so far (lowest val_loss, or loss without validation) to this file." };
    private readonly Option<string?> _save = new("--save") { Description = "Save the trained model to this file (safetensors; load it with `gpunet evaluate --model` or Sequential.Load)." };
    private readonly Option<string?> _plot = new("--plot") { Description = "Write the learning curves (loss and accuracy per epoch, training and validation) to this PNG file." };
    private readonly Option<string?> _history = new("--history") { Description = "Write the per-epoch figures (loss, accuracy, val_loss, val_accuracy, learning_rate, seconds) to this CSV file." };
    private readonly Option<string?> _freeze = new("--freeze") { Description = "Layers whose weights training leaves as they are (Keras' trainable = False), by the names the summary shows, e.g. --freeze dense,dense_1; with --resume, to fine-tune the rest." };
    private readonly Option<string?> _resume = new("--resume") { Description = "Continue the run saved in this checkpoint (from --checkpoint or --save): its model, optimizer state, data, seed and batch size, from the epoch after the saved one up to --epochs." };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of initialization, validation split, shuffling, dropout and augmentation.", DefaultValueFactory = _ => 42 };
    private readonly Option<double> _validationSplit = new("--validation-split") { Description = "Fraction of the training data held out for validation (shuffled first).", DefaultValueFactory = _ => 0.2 };

    public TrainOptions()
    {
        _optimizer.AcceptOnlyFromAmong("sgd", "momentum", "nesterov", "gd", "adagrad", "rmsprop", "adam", "adamw", "adamax");
        _task.AcceptOnlyFromAmong("auto", "classification", "regression");
        _verbose.AcceptOnlyFromAmong("auto", "0", "1", "2");
        _schedule.AcceptOnlyFromAmong("constant", "step", "exponential", "cosine", "inverse-time");
        _loss.AcceptOnlyFromAmong("auto", "mse", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy");
        _scaler.AcceptOnlyFromAmong("auto", "standard", "minmax", "none");
        Positive(_epochs, "30");
        Positive(_batchSize, "64");
        Positive(_ensemble, "5");
        _lr.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<float?>();
            if (v is float f && (!float.IsFinite(f) || f <= 0)) r.AddError($"--lr must be a positive number; received {f}. The lecture uses 0.01 for SGD.");
        });
        InRange(_momentum, 0, 1, "0.9");
        InRange(_dropout, 0, 1, "0.2");
        InRange(_labelSmoothing, 0, 1, "0.1");
        NonNegative(_l1, "1e-4");
        NonNegative(_l2, "1e-4");
        NonNegative(_decay, "1e-4");
        _validationSplit.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v >= 0 && v < 1)) r.AddError($"--validation-split must be in [0, 1); received {v}. Use 0.2 to hold out 20%.");
        });
        _earlyStopping.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int p && p < 1) r.AddError($"--early-stopping must be a positive number of epochs; received {p}. For example --early-stopping 3.");
        });
        foreach (var (option, example) in new[] { (_clipValue, "0.5"), (_clipNorm, "1.0"), (_globalClipNorm, "1.0") })
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<float?>() is float v && !(float.IsFinite(v) && v > 0))
                    r.AddError($"{option.Name} must be a positive number; received {v}. For example {option.Name} {example}.");
            });
        _reduceLr.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int p && p < 1) r.AddError($"--reduce-lr-on-plateau must be a positive number of epochs; received {p}. For example --reduce-lr-on-plateau 3.");
        });
        _reduceLrFactor.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > 0 && v < 1)) r.AddError($"--reduce-lr-factor must be in (0, 1); received {v}. 0.1 divides the rate by 10, 0.5 halves it.");
        });
        _minLr.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v >= 0 && double.IsFinite(v))) r.AddError($"--min-lr must be a number >= 0; received {v}. For example --min-lr 1e-5.");
        });
        _dataset.Validators.Add(r =>
        {
            string v = r.GetValueOrDefault<string>() ?? "";
            if (v is not ("mnist10k" or "mnist" or "fashion-mnist") && !v.StartsWith("csv:", StringComparison.Ordinal))
                r.AddError($"--dataset '{v}' is not known. Expected mnist10k, mnist, fashion-mnist or csv:PATH (for example csv:titanic.csv --target survived).");
        });
    }

    public IEnumerable<Option> All =>
    [
        _device, _dataset, _data, _target, _task, _epochs, _batchSize, _lr, _optimizer, _momentum, _schedule, _decay, _layers, _activation,
        _loss, _fromLogits, _labelSmoothing, _scaler, _init, _l1, _l2, _dropout, _batchNorm, _augment, _earlyStopping, _reduceLr, _reduceLrFactor, _minLr, _clipValue, _clipNorm, _globalClipNorm, _seed, _validationSplit, _ensemble, _gradientNorms, _checkpoint, _save,
        _plot, _history, _verbose, _resume, _freeze,
    ];

    /// <summary>The options that define the model: a resumed run takes them from its checkpoint.</summary>
    private IEnumerable<Option> ModelOptions =>
    [
        _layers, _activation, _init, _optimizer, _lr, _momentum, _schedule, _decay, _loss, _fromLogits, _labelSmoothing, _scaler, _l1, _l2, _dropout, _batchNorm,
        _clipValue, _clipNorm, _globalClipNorm, _ensemble,
    ];

    /// <summary>Reads and checks the parsed values; a bad value throws ArgumentException with a clear message.</summary>
    public TrainSettings Read(ParseResult p)
    {
        string dataset = p.GetValue(_dataset)!;
        string? target = p.GetValue(_target);
        if (p.GetValue(_task) != "auto" && (!dataset.StartsWith("csv:", StringComparison.Ordinal) || p.GetValue(_data) is not null))
            throw new ArgumentException($"--task {p.GetValue(_task)} applies to CSV datasets (--dataset csv:PATH --target COLUMN); image datasets are classification.");
        if (dataset.StartsWith("csv:", StringComparison.Ordinal) && string.IsNullOrWhiteSpace(target))
            throw new ArgumentException($"--dataset {dataset} needs --target COLUMN: the column holding the labels (e.g. --target survived).");
        // Parse names now, so a typo fails before any data is loaded.
        _ = ActivationSpec.Parse(p.GetValue(_activation)!, "--activation");
        _ = Initializers.Initializer.Parse(p.GetValue(_init)!);
        var augment = p.GetValue(_augment);
        string? save = p.GetValue(_save);
        if (save is not null) CheckSavePath(save);
        int ensemble = p.GetValue(_ensemble);
        string? checkpoint = p.GetValue(_checkpoint);
        if (checkpoint is not null) CheckSavePath(checkpoint, "--checkpoint");
        string? plot = p.GetValue(_plot), history = p.GetValue(_history);
        if (plot is not null) CheckSavePath(plot, "--plot", "curves.png");
        if (history is not null) CheckSavePath(history, "--history", "history.csv");
        string? resume = p.GetValue(_resume);
        if (resume is not null && string.IsNullOrWhiteSpace(resume))
            throw new ArgumentException("--resume needs the checkpoint file of the run to continue, for example --resume best.safetensors.");
        var given = All.Where(o => p.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToHashSet();
        if (resume is not null && ModelOptions.FirstOrDefault(o => given.Contains(o.Name)) is { } fixedByCheckpoint)
            throw new ArgumentException(
                $"{fixedByCheckpoint.Name} with --resume: the resumed run's model and optimizer come from '{resume}' and cannot change. " +
                $"Leave {fixedByCheckpoint.Name} out to continue the run, or start a new run without --resume.");
        // no output may replace a file this run reads, nor another output
        var inputs = new List<(string, string)>(RunFiles.IdxFolder(p.GetValue(_data)));
        if (dataset.StartsWith("csv:", StringComparison.Ordinal)) inputs.Add(("the --dataset file", dataset["csv:".Length..]));
        if (resume is not null) inputs.Add(("the --resume checkpoint", resume));
        RunFiles.CheckOutputs([("--save", save), ("--checkpoint", checkpoint), ("--plot", plot), ("--history", history)], inputs);
        var clips = new[] { ("--clip-value", p.GetValue(_clipValue)), ("--clip-norm", p.GetValue(_clipNorm)), ("--global-clip-norm", p.GetValue(_globalClipNorm)) }
            .Where(c => c.Item2 is not null).Select(c => c.Item1).ToList();
        if (clips.Count > 1)
            throw new ArgumentException($"{string.Join(" and ", clips)}: choose one way to clip the gradients (Keras allows one of clipvalue, clipnorm and global_clipnorm).");
        int? reducePatience = p.GetValue(_reduceLr);
        if (reducePatience is null && (p.GetResult(_reduceLrFactor) is { Implicit: false } || p.GetResult(_minLr) is { Implicit: false }))
            throw new ArgumentException("--reduce-lr-factor and --min-lr set how --reduce-lr-on-plateau reduces the rate; add --reduce-lr-on-plateau N (epochs without improvement), e.g. --reduce-lr-on-plateau 5.");
        // an option that cannot act in the chosen setting is a mistake to point out, not to ignore
        bool csv = dataset.StartsWith("csv:", StringComparison.Ordinal) && p.GetValue(_data) is null;
        string optimizer = p.GetValue(_optimizer)!;
        if (given.Contains("--momentum") && optimizer is not ("momentum" or "nesterov"))
            throw new ArgumentException(
                $"--momentum has no effect with --optimizer {optimizer}: it sets the momentum of --optimizer momentum or nesterov. Add --optimizer momentum, or leave --momentum out.");
        if (given.Contains("--decay") && p.GetValue(_schedule) != "inverse-time")
            throw new ArgumentException(
                $"--decay has no effect with --lr-schedule {p.GetValue(_schedule)}: it sets the decay of --lr-schedule inverse-time. Add --lr-schedule inverse-time, or leave --decay out.");
        if (target is not null && !csv)
            throw new ArgumentException(
                $"--target {target} has no effect on {(p.GetValue(_data) is { } folder ? $"the IDX folder '{folder}'" : $"--dataset {dataset}")}: image datasets carry their labels. " +
                "--target names the label column of a CSV dataset (--dataset csv:PATH --target COLUMN).");
        if (p.GetValue(_augment) is not null && csv)
            throw new ArgumentException("--augment shifts, rotates and flips images; a CSV dataset has no images. Leave --augment out.");
        if (save is not null && ensemble > 1)
            throw new ArgumentException($"--save with --ensemble {ensemble}: only single models can be saved. Save members one by one (train with --seed N --save member-N.safetensors), or drop --ensemble.");
        return new TrainSettings
        {
            Device = DeviceOption.Parse(p.GetValue(_device)!),
            Dataset = dataset,
            DataFolder = p.GetValue(_data),
            Target = target,
            Task = p.GetValue(_task)!,
            Epochs = p.GetValue(_epochs),
            BatchSize = p.GetValue(_batchSize),
            LearningRate = p.GetValue(_lr),
            Optimizer = p.GetValue(_optimizer)!,
            Momentum = p.GetValue(_momentum),
            Schedule = p.GetValue(_schedule)!,
            Decay = p.GetValue(_decay),
            Layers = p.GetValue(_layers) is { } layers ? LayerSpec.Parse(layers) : null,
            Activation = p.GetValue(_activation)!,
            Loss = p.GetValue(_loss)!,
            FromLogits = p.GetValue(_fromLogits),
            LabelSmoothing = p.GetValue(_labelSmoothing),
            Scaler = p.GetValue(_scaler)!,
            Init = p.GetValue(_init)!,
            L1 = p.GetValue(_l1),
            L2 = p.GetValue(_l2),
            Dropout = p.GetValue(_dropout),
            BatchNorm = p.GetValue(_batchNorm),
            Augmentation = augment is null ? null : ParseAugmentation(augment),
            AugmentationText = augment,
            EarlyStoppingPatience = p.GetValue(_earlyStopping),
            ReduceLrPatience = reducePatience,
            ClipValue = p.GetValue(_clipValue),
            ClipNorm = p.GetValue(_clipNorm),
            GlobalClipNorm = p.GetValue(_globalClipNorm),
            ReduceLrFactor = p.GetValue(_reduceLrFactor),
            MinLearningRate = p.GetValue(_minLr),
            Seed = p.GetValue(_seed),
            ValidationSplit = p.GetValue(_validationSplit),
            SavePath = save,
            Ensemble = ensemble,
            GradientNorms = p.GetValue(_gradientNorms),
            CheckpointPath = checkpoint,
            PlotPath = plot,
            HistoryPath = history,
            ResumePath = resume,
            Freeze = p.GetValue(_freeze) is { } freeze ? freeze.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [],
            Given = given,
            Verbose = p.GetValue(_verbose)!,
        };
    }

    /// <summary>Fails before training, not after it, when the model could not be saved where asked.</summary>
    internal static void CheckSavePath(string path, string option = "--save", string example = "model.safetensors")
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"{option} needs a file path, for example {option} {example}.");
        string full = Path.GetFullPath(path);
        AtomicFile.RemoveStale(full); // what an earlier run, killed while writing this file, left behind
        if (Directory.Exists(full))
            throw new ArgumentException($"{option} '{path}' is a folder; give a file path inside it, for example {Path.Combine(path, example)}.");
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new ArgumentException($"{option} '{path}': {AtomicFile.MissingFolder(folder)}");
    }

    internal static AugmentationSettings ParseAugmentation(string text)
    {
        if (text.Trim() == "default")
            return new AugmentationSettings { MaxShift = 2, MaxRotationDegrees = 10, MaxBrightness = 0.1f, NoiseStddev = 0.05f };
        var s = new AugmentationSettings();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = item.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !float.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !(v >= 0))
                throw new ArgumentException($"--augment '{item}' is not key=value with a number >= 0. Example: --augment shift=2,rotation=10,noise=0.05.");
            switch (kv[0])
            {
                case "shift": s.MaxShift = v; break;
                case "rotation" or "rotate": s.MaxRotationDegrees = v; break;
                case "flip":
                    if (v > 1) throw new ArgumentException($"--augment flip={v}: the flip probability must be in [0, 1].");
                    s.FlipProbability = v; break;
                case "brightness": s.MaxBrightness = v; break;
                case "noise": s.NoiseStddev = v; break;
                case "cutout": s.CutoutSize = (int)v; break;
                default:
                    throw new ArgumentException($"--augment key '{kv[0]}' is not known. Expected shift, rotation, flip, brightness, noise or cutout.");
            }
        }
        return s;
    }

    internal static void Positive(Option<int> option, string example) =>
        option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 1) r.AddError($"{option.Name} must be a positive integer; received {v}. For example {option.Name} {example}.");
        });

    private static void InRange(Option<float> option, float min, float maxExclusive, string example) =>
        option.Validators.Add(r =>
        {
            float v = r.GetValueOrDefault<float>();
            if (!(v >= min && v < maxExclusive)) r.AddError($"{option.Name} must be in [{min}, {maxExclusive}); received {v}. For example {option.Name} {example}.");
        });

    private static void NonNegative(Option<float> option, string example) =>
        option.Validators.Add(r =>
        {
            float v = r.GetValueOrDefault<float>();
            if (!(v >= 0) || !float.IsFinite(v)) r.AddError($"{option.Name} must be a number >= 0; received {v}. For example {option.Name} {example}.");
        });
}
