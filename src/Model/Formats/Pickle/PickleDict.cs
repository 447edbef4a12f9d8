namespace ActorFace.Model.Formats.Pickle;

/// <summary>A Python dict (or OrderedDict) read by <see cref="RestrictedUnpickler"/>: keys (str, int as long, bool)
/// in insertion order, as Python keeps them.</summary>
public sealed class PickleDict
{
    internal readonly List<KeyValuePair<object?, object?>> Entries = [];
    internal readonly Dictionary<object, int> Index = [];

    /// <summary>collections.OrderedDict (a state_dict) rather than a plain dict.</summary>
    public bool Ordered { get; internal set; }

    public IReadOnlyList<KeyValuePair<object?, object?>> Items => Entries;

    public int Count => Entries.Count;

    public bool TryGetValue(object key, out object? value)
    {
        if (Index.TryGetValue(key, out var i)) { value = Entries[i].Value; return true; }
        value = null;
        return false;
    }
}
