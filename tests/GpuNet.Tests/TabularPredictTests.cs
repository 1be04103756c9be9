using System.Globalization;
using GpuNet.Cli;
using GpuNet.Data.Tabular;
using Xunit;

namespace GpuNet.Tests;

/// <summary>A CSV model's preprocessing saved with it, and <c>gpunet predict</c> on new rows.</summary>
public sealed class TabularPredictTests : IDisposable
{
    private static readonly string TitanicPath = Path.Combine(AppContext.BaseDirectory, "Data", "titanic.csv");
    private readonly string _folder = Directory.CreateTempSubdirectory("gpunet-predict-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => TestData.RunCli(args);

    [Theory]
    [InlineData(CategoricalEncoding.OneHot, ScalerKind.Standard)]
    [InlineData(CategoricalEncoding.Label, ScalerKind.MinMax)]
    [InlineData(CategoricalEncoding.OneHot, ScalerKind.None)]
    public void ASavedPreprocessorEncodesRowsExactlyAsTheFittedOne(CategoricalEncoding encoding, ScalerKind scaler)
    {
        var table = CsvTable.Load(TitanicPath);
        var prep = new TabularPreprocessor("survived", encoding: encoding, scaler: scaler);
        var (trainRows, _) = Splits.StratifiedTrainTest(prep.EncodeTarget(table), 0.2, 1);
        prep.Fit(table, trainRows);

        var restored = TabularPreprocessor.FromJson(prep.ToJson());
        Assert.Equal(prep.FeatureNames, restored.FeatureNames);
        Assert.Equal((prep.NumericImpute, prep.CategoricalImpute, prep.Encoding, prep.ScalerKind),
            (restored.NumericImpute, restored.CategoricalImpute, restored.Encoding, restored.ScalerKind));
        Assert.Equal(prep.ColumnKinds, restored.ColumnKinds);
        Assert.Equal(prep.Classes, restored.Classes);
        var features = prep.TransformFeatures(table);
        Assert.Equal(features, restored.TransformFeatures(table));
        // The same encoding Transform gives the training pipeline, for every row.
        Assert.Equal(prep.Transform(table, Enumerable.Range(0, table.RowCount).ToArray(), "all").Features, features);

        // New rows without the target column, with a missing age and an unseen category.
        var fresh = CsvTable.Parse(new StringReader("sex,age,passengerClass,name\nfemale,,1st,A\nmale,30,4th,B\n"), "new");
        var x = restored.TransformFeatures(fresh);
        Assert.Equal(2 * prep.FeatureNames.Count, x.Length);
        Assert.Equal(prep.TransformFeatures(fresh), x);
    }

    [Fact]
    public void DamagedPreprocessorJsonIsAClearError()
    {
        var e = Assert.Throws<InvalidDataException>(() => TabularPreprocessor.FromJson("{\"target\":\"survived\"}"));
        Assert.Contains("preprocessing is damaged", e.Message);
    }

    [Fact]
    public void PredictEncodesNewCsvRowsLikeTrainingAndWritesTheirProbabilities()
    {
        string model = Path.Combine(_folder, "titanic.safetensors");
        var (code, output, error) = Run("train", "--device", "cpu", "--dataset", $"csv:{TitanicPath}", "--target", "survived",
            "--optimizer", "adam", "--lr", "0.01", "--epochs", "10", "--batch-size", "32", "--save", model);
        Assert.True(code == 0, error);
        Assert.Contains("gpunet predict --model", output);

        string predictions = Path.Combine(_folder, "out.csv");
        (code, output, error) = Run("predict", "--model", model, "--input", TitanicPath, "--output", predictions, "--device", "cpu", "--show", "3");
        Assert.True(code == 0, error);
        Assert.Contains("row 3: survived=", output);
        Assert.Contains("... 1,306 more rows", output);
        Assert.Contains("Accuracy against the file's 'survived' column: 0.", output);

        var lines = File.ReadAllLines(predictions);
        Assert.Equal("row,predicted_survived,probability,p_no,p_yes", lines[0]);
        Assert.Equal(1 + 1309, lines.Length);
        int yes = 0;
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            float p = float.Parse(f[2], CultureInfo.InvariantCulture), pNo = float.Parse(f[3], CultureInfo.InvariantCulture),
                pYes = float.Parse(f[4], CultureInfo.InvariantCulture);
            Assert.Equal(1f, pNo + pYes, 5);
            Assert.Equal(Math.Max(pNo, pYes), p);
            Assert.Equal(pYes > pNo ? "yes" : "no", f[1]);
            if (f[1] == "yes") yes++;
        }
        Assert.Contains($"Predicted: no {1309 - yes:N0}, yes {yes:N0}", output);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp")); // written atomically

        // An image given to this CSV model is refused at once
        (code, _, error) = Run("predict", "--model", model, "--input", Path.Combine(_folder, "digit.png"), "--device", "cpu");
        Assert.NotEqual(0, code);
        Assert.Contains("does not exist", error); // checked before anything else
        File.WriteAllBytes(Path.Combine(_folder, "digit.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        (code, _, error) = Run("predict", "--model", model, "--input", Path.Combine(_folder, "digit.png"), "--device", "cpu");
        Assert.NotEqual(0, code);
        Assert.Contains("is a CSV model", error);

        // A labelled file with one label missing: scored over the rows that have one (the label column in another case).
        string partly = Path.Combine(_folder, "partly.csv");
        File.WriteAllText(partly, "sex,age,passengerClass,SURVIVED\nfemale,29,1st,yes\nmale,40,3rd,\nmale,20,3rd,no\n");
        (code, output, error) = Run("predict", "--model", model, "--input", partly, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Matches(@"Accuracy against the file's 'survived' column: [01]\.\d{4} \(\d of 2, the rows with a label\)", output);

        // A small file whose numeric column is blank in every row is still read as numbers (and imputed).
        string blank = Path.Combine(_folder, "blank.csv");
        File.WriteAllText(blank, "sex,age,passengerClass\nfemale,,1st\nmale,,3rd\n");
        (code, output, error) = Run("predict", "--model", model, "--input", blank, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("row 2: survived=", output);

        (code, _, error) = Run("predict", "--model", model, "--input", blank, "--output", blank);
        Assert.Equal(1, code);
        Assert.Contains("is the --input file", error);
        Assert.Equal("sex,age,passengerClass\nfemale,,1st\nmale,,3rd\n", File.ReadAllText(blank)); // untouched
    }

    [Fact]
    public void PredictRejectsImageModelsAndFilesWithoutTheFeatureColumnsInOneLine()
    {
        string image = Path.Combine(_folder, "digits.safetensors");
        Assert.Equal(0, Run("train", "--device", "cpu", "--epochs", "1", "--save", image).Code);
        string csv = Path.Combine(_folder, "rows.csv");
        File.WriteAllText(csv, "age,passengerClass\n3,1st\n");

        var (code, _, error) = Run("predict", "--model", image, "--input", csv);
        Assert.Equal(1, code);
        Assert.Contains("holds no CSV preprocessing", error);

        string model = Path.Combine(_folder, "titanic.safetensors");
        Assert.Equal(0, Run("train", "--device", "cpu", "--dataset", $"csv:{TitanicPath}", "--target", "survived", "--epochs", "1", "--save", model).Code);
        (code, _, error) = Run("predict", "--model", model, "--input", csv);
        Assert.Equal(1, code);
        Assert.Contains("no column 'sex'", error);
        Assert.DoesNotContain("   at ", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void PredictReportsCategoriesNeverSeenInTraining()
    {
        string model = Path.Combine(_folder, "titanic.safetensors");
        Assert.Equal(0, Run("train", "--device", "cpu", "--dataset", $"csv:{TitanicPath}", "--target", "survived", "--epochs", "1", "--save", model).Code);
        string csv = Path.Combine(_folder, "new.csv");
        File.WriteAllText(csv, "sex,age,passengerClass,name\nfemale,30,1st,A\nmale,30,4th,B\nmale,40,crew,C\n");

        var (code, output, error) = Run("predict", "--model", model, "--input", csv, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("warning: unseen categories: passengerClass: 2 rows hold categories not seen in training ('4th', 'crew'); the model knows '1st', '2nd', '3rd'", output);
        Assert.DoesNotContain("unseen categories: sex", output);
    }
}
