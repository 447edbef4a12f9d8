using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ActorFace.Actors.Coordination;

namespace ActorFace.Actors.Settings;

public static class SettingsDump
{
    /// <summary>
    /// arcface_torch prints every config key (plus the derived step counts) at start: every top-level key of the
    /// reference file, in its order, with the bound value (the property of the same name in PascalCase).
    /// </summary>
    public static IEnumerable<(string Key, object? Value)> Entries(TrainingSettings s, StepPlan plan)
    {
        foreach (var key in SettingsSchema.Ordered.Where(k => !k.Contains('.')))
        {
            if (Value(s, key) is not { } value) continue; // validation-only keys (dali, dali_aug) bind to nothing
            if (key is "init_backbone" or "init_partial_fc" && value is "") continue;
            yield return (key, value);
        }
        yield return ("world_size", plan.WorldSize);
        yield return ("total_batch_size", plan.TotalBatchSize);
        yield return ("warmup_step", plan.WarmupStep);
        yield return ("total_step", plan.TotalStep);
    }

    private static object? Value(TrainingSettings s, string key)
    {
        if (key == "output") return s.OutputDirectory;
        var value = typeof(TrainingSettings).GetProperty(PropertyName(key),
            System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase)?.GetValue(s);
        return value switch
        {
            IEnumerable<string> list => "[" + string.Join(", ", list) + "]",
            TimeSpan t => t.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + "s", // as the reference writes it
            _ => value,
        };
    }

    /// <summary>margin_list → MarginList: the settings records name a key's property after it (case aside:
    /// max_nonfinite_steps → MaxNonFiniteSteps).</summary>
    public static string PropertyName(string snakeCaseKey) =>
        string.Concat(snakeCaseKey.Split('_').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));

    /// <summary>Digest of everything every node must agree on (cluster wiring and resume are per node).</summary>
    public static string Fingerprint(TrainingSettings s)
    {
        var shared = s with { Cluster = TrainingSettings.Default.Cluster, Resume = false, Output = s.OutputDirectory, ConfigName = "" };
        var json = JsonSerializer.Serialize(shared);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16];
    }
}
