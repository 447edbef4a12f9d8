using ActorFace.Actors.Data;
using ActorFace.Actors.Settings;
using ActorFace.Actors.Workers;
using ActorFace.Model.Data;
using ActorFace.Model.Data.Synthetic;

namespace ActorFace.Actors.Training;

/// <summary>The real rank services: Model's RankTrainer, the node's dataset and loaders, collectives, verification.</summary>
public static class ProductionServices
{
    public static RankServices Create(TrainingSettings settings, TextWriter? console)
    {
        var dataset = OpenDataset(settings);
        var loader = DataLoaderSettings.From(settings);
        var verify = settings.ValTargets.Count > 0 || (settings.Dataset == "synthetic" && settings.Synthetic.ValPairs > 0);
        return new RankServices(new ProductionTrainerFactory(), new LoaderDataFactory(dataset, loader), new ModelCollectives(),
            verify ? new VerificationHook(settings) : null);
    }

    public static IFaceDataset OpenDataset(TrainingSettings s)
    {
        IFaceDataset dataset = s.Dataset switch
        {
            "synthetic" => new SyntheticIdentityDataset(s.NumClasses, checked((int)(s.NumImage / s.NumClasses)), s.Seed),
            _ => FaceDatasets.Open(s.Rec, s.NumClasses),
        };
        if (dataset.NumClasses != s.NumClasses)
            throw new InvalidDataException($"actorface.num_classes is {s.NumClasses} but the dataset '{s.Rec}' has {dataset.NumClasses} classes");
        return dataset;
    }
}
