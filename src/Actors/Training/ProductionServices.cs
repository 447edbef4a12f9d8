using ActorFace.Actors.Settings;
using ActorFace.Actors.Workers;

namespace ActorFace.Actors.Training;

/// <summary>The real rank services: Model's RankTrainer, data loaders, collectives and verification.</summary>
public static class ProductionServices
{
    public static RankServices Create(TrainingSettings settings, TextWriter? console) =>
        throw new NotSupportedException("the numeric parts (RankTrainer, data, collectives) are not merged yet");
}
