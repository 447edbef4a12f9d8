namespace ActorFace.Host.Configuration.ArcfaceTorch;

/// <summary>One `config.key = value` line of an arcface_torch config, evaluated.</summary>
internal sealed record PythonAssignment(string Key, object Value, int Line);

/// <summary>
/// Reads an arcface_torch config file (configs/*.py) without running Python: the statements those files are made of
/// — `from easydict import EasyDict as edict`, `config = edict()`, `config.key = value` — in order. Any other
/// statement (imports, conditionals, function calls, `config["key"]`, ...) is an error naming the file and the line.
/// </summary>
internal static class PythonConfigFile
{
    private const string Subset =
        "ActorFace reads the subset arcface_torch configs are written in — `from easydict import EasyDict as edict`, " +
        "`config = edict()`, `config.key = value` with literals, lists, tuples and arithmetic — and never runs Python";

    public static List<PythonAssignment> Read(string source, string text)
    {
        var tokens = PythonLexer.Tokenize(source, text);
        var lines = text.Split('\n');
        var result = new List<PythonAssignment>();
        var values = new Dictionary<string, object>();
        string? dictType = null;
        var configDefined = false;
        var i = 0;
        while (tokens[i].Kind != TokenKind.End)
        {
            var start = tokens[i];
            if (start.Kind == TokenKind.Newline) { i++; continue; }
            if (start.Column != 0)
                throw new ConfigException($"{source} line {start.Line}: unexpected indent ({Subset})");

            if (Matches(tokens, i, "from", "easydict", "import", "EasyDict"))
            {
                i += 4;
                dictType = "EasyDict";
                if (Matches(tokens, i, "as") && tokens[i + 1].Kind == TokenKind.Name) { dictType = tokens[i + 1].Text; i += 2; }
                i = EndOfStatement(tokens, i, source, lines);
            }
            else if (Matches(tokens, i, "config", "=") && tokens[i + 2].Kind == TokenKind.Name)
            {
                var type = tokens[i + 2];
                if (type.Text != dictType)
                    throw new ConfigException($"{source} line {start.Line}: config must be created as `config = {dictType ?? "edict"}()`" +
                                              (dictType is null ? " after `from easydict import EasyDict as edict`" : "") + $" ({Subset})");
                if (!IsOp(tokens[i + 3], "(") || !IsOp(tokens[i + 4], ")"))
                    throw NotInSubset(source, lines, start.Line);
                i = EndOfStatement(tokens, i + 5, source, lines);
                configDefined = true;
                values.Clear();
                result.Clear();
            }
            else if (Matches(tokens, i, "config") && IsOp(tokens[i + 1], ".") && tokens[i + 2].Kind == TokenKind.Name && IsOp(tokens[i + 3], "="))
            {
                if (!configDefined)
                    throw new ConfigException($"{source} line {start.Line}: `config` is used before `config = edict()` ({Subset})");
                var key = tokens[i + 2].Text;
                var (value, end) = PythonExpression.Evaluate(tokens, i + 4, source, (name, at) =>
                    values.TryGetValue(name, out var v) ? v
                        : throw new ConfigException($"{source} line {at.Line}: config.{name} is read before this file sets it " +
                                                    "(in Python an EasyDict raises AttributeError; base.py values are not visible here either)"));
                values[key] = value;
                result.Add(new PythonAssignment(key, value, start.Line));
                i = end;
            }
            else
                throw NotInSubset(source, lines, start.Line);
        }
        return result;
    }

    private static bool Matches(IReadOnlyList<Token> tokens, int i, params string[] words)
    {
        for (var k = 0; k < words.Length; k++)
        {
            var t = tokens[i + k];
            var ok = words[k] is "=" or "." ? IsOp(t, words[k]) : t.Kind == TokenKind.Name && t.Text == words[k];
            if (!ok) return false;
            if (t.Kind == TokenKind.End) return false;
        }
        return true;
    }

    private static bool IsOp(Token t, string op) => t.Kind == TokenKind.Op && t.Text == op;

    private static int EndOfStatement(IReadOnlyList<Token> tokens, int i, string source, string[] lines)
    {
        if (tokens[i].Kind != TokenKind.Newline) throw NotInSubset(source, lines, tokens[i].Line);
        return i + 1;
    }

    private static ConfigException NotInSubset(string source, string[] lines, int line)
    {
        var text = line - 1 < lines.Length ? lines[line - 1].Trim() : "";
        if (text.Length > 80) text = text[..77] + "...";
        return new ConfigException($"{source} line {line}: `{text}` is not part of an arcface_torch config ({Subset})");
    }
}
