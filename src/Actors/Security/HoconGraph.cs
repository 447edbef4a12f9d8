using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace ActorFace.Actors.Security;

/// <summary>
/// Checks a parsed HOCON tree before anything reads it: no substitution may lead back to the value that contains
/// it (Akka 1.5 resolves <c>a = ${a}</c>, or <c>a = ${b}</c> with <c>b = ${a}</c>, to a cycle that the first read
/// follows until the stack overflows), and no chain of objects, lists and substitutions may be deeper than the
/// limit (each level is a recursive call when a value is read). Iterative, so the check itself cannot overflow.
/// </summary>
internal static class HoconGraph
{
    sealed class Frame(HoconValue value, string label, IEnumerator<(HoconValue? Child, string Label)> children)
    {
        public HoconValue Value { get; } = value;
        public string Label { get; } = label;
        public IEnumerator<(HoconValue? Child, string Label)> Children { get; } = children;
        public int Height { get; set; }
    }

    public static void Check(string source, Config config, int maxDepth)
    {
        try { Walk(source, config, maxDepth); }
        catch (ConfigurationException e) when (!e.Message.StartsWith(source + ": ", StringComparison.Ordinal))
        {
            throw new ConfigurationException($"{source}: {e.Message}");
        }
    }

    static void Walk(string source, Config config, int maxDepth)
    {
        if (config.IsEmpty || config.Root is null) return;
        // Height of every finished value (longest chain below it); a value on the stack is in progress.
        var height = new Dictionary<HoconValue, int>(ReferenceEqualityComparer.Instance);
        var onStack = new HashSet<HoconValue>(ReferenceEqualityComparer.Instance);
        var stack = new List<Frame>();
        void Push(HoconValue value, string label)
        {
            onStack.Add(value);
            stack.Add(new Frame(value, label, Children(value, label).GetEnumerator()));
        }
        Push(config.Root, "");
        while (stack.Count > 0)
        {
            var top = stack[^1];
            if (!top.Children.MoveNext())
            {
                top.Height += 1;
                if (top.Height > maxDepth)
                    throw new ConfigurationException($"{source}: '{Key(stack)}' nests or refers through ${{...}} more than {maxDepth} levels deep; refused");
                height[top.Value] = top.Height;
                onStack.Remove(top.Value);
                stack.RemoveAt(stack.Count - 1);
                if (stack.Count > 0) stack[^1].Height = Math.Max(stack[^1].Height, top.Height);
                continue;
            }
            var (child, label) = top.Children.Current;
            if (child is null) continue;
            if (onStack.Contains(child))
                throw Cycle(source, stack, child, label);
            if (height.TryGetValue(child, out var h)) top.Height = Math.Max(top.Height, h);
            else Push(child, label);
        }
    }

    static IEnumerable<(HoconValue?, string)> Children(HoconValue value, string path)
    {
        foreach (var element in value.Values)
        {
            switch (element)
            {
                case HoconObject obj:
                    foreach (var (key, child) in obj.Items)
                        yield return (child, path.Length == 0 || path.StartsWith("${", StringComparison.Ordinal) ? key : path + "." + key);
                    break;
                case HoconArray array:
                    for (var i = 0; i < array.Count; i++) yield return (array[i], $"{path}[{i}]");
                    break;
                case HoconSubstitution { Path.Length: 0 }:
                    // Akka 1.5 parses `${?VAR}` as a substitution of the empty path, i.e. of the whole document.
                    throw new ConfigurationException(
                        $"'{path}': optional substitutions ${{?...}} are not supported (Akka's parser resolves them to the whole " +
                        "document, which contains the key itself); set the value with ACTORFACE__<KEY> environment variables instead");
                case HoconSubstitution substitution:
                    yield return (substitution.ResolvedValue, "${" + substitution.Path + "}");
                    break;
            }
        }
    }

    static ConfigurationException Cycle(string source, List<Frame> stack, HoconValue repeated, string closingLabel)
    {
        var start = stack.FindLastIndex(f => ReferenceEquals(f.Value, repeated));
        var chain = stack.Skip(start).Select(f => f.Label).Append(closingLabel);
        return new ConfigurationException(
            $"{source}: '{stack[start].Label}' refers to itself: {string.Join(" -> ", chain)}; a substitution must name another key " +
            "(HOCON's self-referential `a = ${a} ...` is not supported)");
    }

    /// <summary>The innermost plain key on the stack (what the user wrote on the left of '=').</summary>
    static string Key(List<Frame> stack) =>
        stack.LastOrDefault(f => f.Label.Length > 0 && !f.Label.StartsWith("${", StringComparison.Ordinal))?.Label ?? "(root)";
}
