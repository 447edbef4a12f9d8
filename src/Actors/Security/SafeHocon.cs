using Akka.Configuration;

namespace ActorFace.Actors.Security;

/// <summary>
/// HOCON parsing that cannot hang. Akka.Configuration's tokenizer (1.5) loops forever — allocating ~200 MB/s — on
/// some malformed input, e.g. <c>a = [1.0\, 0.5]</c> or <c>a = [=]</c> (found by fuzzing). Known triggers are refused
/// by a lexical pre-check with the line number; anything else that does not finish within the deadline is reported
/// as a <see cref="ConfigurationException"/> (the runaway parse is left on a background thread: callers are
/// command-line start-up paths that exit on the error).
/// </summary>
public static class SafeHocon
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Deepest nesting accepted ({ [ and dotted key segments, and chains of ${...}): Akka's parser and value reads
    /// recurse once per level, so 50,000 levels overflow the stack and kill the process. Real configs nest ~8 deep.
    /// </summary>
    public const int MaxDepth = 100;

    public static Config Parse(string source, string text, TimeSpan? deadline = null)
    {
        PreCheck(source, text);
        Config? result = null;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try { result = ConfigurationFactory.ParseString(text); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true, Name = "hocon-parse" };
        worker.Start();
        var limit = deadline ?? DefaultDeadline;
        if (!worker.Join(limit))
            throw new ConfigurationException($"{source}: the HOCON parser did not finish within {limit.TotalSeconds:0.#} s; the file is malformed");
        if (failure is ConfigurationException) throw new ConfigurationException($"{source}: {failure.Message}", failure);
        if (failure != null) throw new ConfigurationException($"{source}: not valid HOCON: {failure.Message}", failure);
        // Akka resolves `a = ${a}` to the value that holds the substitution itself; the first read then recurses
        // until the stack overflows. Cycles and over-deep chains are refused here, before anything reads a value.
        HoconGraph.Check(source, result!, MaxDepth);
        return result!;
    }

    /// <summary>
    /// Outside quoted strings and comments HOCON never allows a backslash, a value cannot start with '=' or ':', and
    /// brackets must balance with no 'key = value' directly inside a list; each of these sends Akka's tokenizer into
    /// its endless loop (found by fuzzing), so they are refused here first, with the line.
    /// </summary>
    static void PreCheck(string source, string text)
    {
        int line = 1;
        char lastSignificant = '\n';
        var open = new Stack<(char Bracket, int Line)>();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n') { line++; lastSignificant = '\n'; continue; }
            if (c == '"')
            {
                if (AtKey()) CheckKey(source, text, i, line, open.Count);
                var triple = i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"';
                var end = triple ? text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal) : QuotedEnd(text, i + 1);
                if (end < 0) throw new ConfigurationException($"{source}: line {line}: unterminated string");
                line += text.AsSpan(i, end - i).Count('\n');
                i = end + (triple ? 2 : 0);
                lastSignificant = '"';
                continue;
            }
            if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                var end = text.IndexOf('\n', i);
                if (end < 0) break;
                i = end - 1;
                continue;
            }
            if (char.IsWhiteSpace(c)) continue;
            if (AtKey() && c is not ('}' or '{' or '[' or ']' or ','))
                CheckKey(source, text, i, line, open.Count);
            if (c == '\\') throw new ConfigurationException($"{source}: line {line}: a backslash is only allowed inside a quoted string");
            // HOCON forbids these outside quotes ('?' only in an optional substitution "${?"); the tokenizer loops on them.
            if ((c is '`' or '^' or '!' or '@' or '*' or '&' || (c == '?' && !(i >= 2 && text[i - 1] == '{' && text[i - 2] == '$'))
                 || (char.IsControl(c) && c is not '\t' and not '\r')) )
                throw new ConfigurationException($"{source}: line {line}: character U+{(int)c:X4} is only allowed inside a quoted string");
            if (c is '=' or ':' && lastSignificant is '[' or ',' or '=' or ':')
                throw new ConfigurationException($"{source}: line {line}: '{c}' where a value was expected");
            // Bracket structure: unbalanced or crossed brackets, and key = value directly inside [ ], also loop the tokenizer.
            if (c is '{' or '[')
            {
                if (open.Count >= MaxDepth)
                    throw new ConfigurationException($"{source}: line {line}: nesting deeper than {MaxDepth} levels of braces and brackets; refused before parsing");
                open.Push((c, line));
            }
            else if (c is '}' or ']')
            {
                var expected = c == '}' ? '{' : '[';
                if (open.Count == 0 || open.Peek().Bracket != expected)
                    throw new ConfigurationException($"{source}: line {line}: '{c}' does not close " +
                        (open.Count == 0 ? "anything" : $"the '{open.Peek().Bracket}' opened on line {open.Peek().Line}"));
                open.Pop();
            }
            else if (c == '=' && open.Count > 0 && open.Peek().Bracket == '[')
                throw new ConfigurationException($"{source}: line {line}: 'key = value' inside the list opened on line {open.Peek().Line} (missing ']'?)");
            lastSignificant = c;
        }
        // A key starts after a newline, '{', '}' or ',' inside an object (not inside a list).
        bool AtKey() => lastSignificant is '\n' or '{' or '}' or ',' && (open.Count == 0 || open.Peek().Bracket == '{');

        if (open.Count > 0)
            throw new ConfigurationException($"{source}: line {line}: the '{open.Peek().Bracket}' opened on line {open.Peek().Line} is never closed");
    }

    /// <summary>
    /// At the start of a key: its dotted segments count as nesting levels (Akka's parser recurses per segment), and
    /// `include` is refused: Akka needs an include callback that ActorFace does not give it (it failed with a
    /// NullReferenceException); one job file is layered over the reference defaults, --set and ACTORFACE__* instead.
    /// </summary>
    static void CheckKey(string source, string text, int start, int line, int openBrackets)
    {
        int dots = 0, j = start;
        while (j < text.Length)
        {
            var ch = text[j];
            if (ch == '"')
            {
                var end = QuotedEnd(text, j + 1);
                if (end < 0) break;
                j = end + 1;
                continue;
            }
            if (char.IsWhiteSpace(ch) || ch is '=' or ':' or '{' or '[' or ',' or '}' or '#') break;
            if (ch == '.') dots++;
            j++;
        }
        if (openBrackets + dots + 1 > MaxDepth)
            throw new ConfigurationException($"{source}: line {line}: nesting deeper than {MaxDepth} levels (braces, brackets and dotted key segments); refused before parsing");
        if (text.AsSpan(start, j - start).SequenceEqual("include"))
        {
            var k = j;
            while (k < text.Length && text[k] is ' ' or '\t') k++;
            if (k < text.Length && (text[k] == '"' || char.IsAsciiLetter(text[k])))
                throw new ConfigurationException($"{source}: line {line}: 'include' is not supported; copy the included keys into this file, " +
                                                 "or set them with --set key=value or ACTORFACE__<KEY> environment variables");
        }
    }

    static int QuotedEnd(string text, int from)
    {
        for (var i = from; i < text.Length; i++)
        {
            if (text[i] == '\\') { i++; continue; }
            if (text[i] == '"') return i;
            if (text[i] == '\n') return -1;
        }
        return -1;
    }
}
