using System.Globalization;
using System.Text;

namespace ActorFace.Host.Configuration.ArcfaceTorch;

internal enum TokenKind { Name, Integer, Float, String, Op, Newline, End }

internal sealed record Token(TokenKind Kind, string Text, int Line, int Column, object? Value = null);

/// <summary>
/// Splits a Python source file into tokens, the way CPython's tokenizer does for the little that arcface_torch configs
/// use: names, numbers (underscores, exponents), single-line string literals (optionally raw), operators, comments, and
/// logical lines (a newline inside brackets or after a backslash continues the line). Anything else is an error
/// naming the file and line; nothing is ever executed.
/// </summary>
internal sealed class PythonLexer(string source, string text)
{
    private static readonly string[] Operators = ["**", "//", "(", ")", "[", "]", ",", ".", "=", "+", "-", "*", "/", "%", ";", ":", "{", "}", "<", ">", "!", "@", "&", "|", "^", "~"];
    private readonly List<Token> _tokens = [];
    private int _pos;
    private int _line = 1;
    private int _lineStart;
    private int _depth;

    public static List<Token> Tokenize(string source, string text) => new PythonLexer(source, text).Run();

    private List<Token> Run()
    {
        while (_pos < text.Length)
        {
            var c = text[_pos];
            if (c == '#') { while (_pos < text.Length && text[_pos] != '\n') _pos++; continue; }
            if (c == '\n') { NewLine(); continue; }
            if (c is ' ' or '\t' or '\r' or '\f') { _pos++; continue; }
            if (c == '\\' && _pos + 1 < text.Length && (text[_pos + 1] == '\n' || text[_pos + 1] == '\r'))
            {
                _pos++;
                if (text[_pos] == '\r') _pos++;
                if (_pos < text.Length && text[_pos] == '\n') { _pos++; _line++; _lineStart = _pos; }
                continue;
            }
            if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < text.Length && char.IsAsciiDigit(text[_pos + 1]))) { Number(); continue; }
            if (c is '"' or '\'') { Str(raw: false, _pos); continue; }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = _pos;
                while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
                var name = text[start.._pos];
                if (_pos < text.Length && text[_pos] is '"' or '\'')
                {
                    if (name is "r" or "R") { Str(raw: true, start); continue; }
                    if (name is "u" or "U") { Str(raw: false, start); continue; }
                    throw Error($"{name}-prefixed string literals are not supported (plain, r or u strings only)");
                }
                Add(TokenKind.Name, name, start);
                continue;
            }
            var op = Operators.FirstOrDefault(o => string.CompareOrdinal(text, _pos, o, 0, o.Length) == 0)
                     ?? throw Error($"unexpected character '{c}'");
            if (op is "(" or "[" or "{") _depth++;
            if (op is ")" or "]" or "}") _depth = Math.Max(0, _depth - 1);
            Add(TokenKind.Op, op, _pos);
            _pos += op.Length;
        }
        if (_depth > 0) throw Error("unclosed bracket at the end of the file");
        Add(TokenKind.Newline, "", _pos);
        Add(TokenKind.End, "", _pos);
        return _tokens;
    }

    private void NewLine()
    {
        if (_depth == 0 && _tokens.Count > 0 && _tokens[^1].Kind != TokenKind.Newline)
            Add(TokenKind.Newline, "", _pos);
        _pos++;
        _line++;
        _lineStart = _pos;
    }

    private void Add(TokenKind kind, string tokenText, int start, object? value = null) =>
        _tokens.Add(new Token(kind, tokenText, _line, start - _lineStart, value));

    private void Number()
    {
        var start = _pos;
        var isFloat = false;
        while (_pos < text.Length)
        {
            var c = text[_pos];
            if (char.IsAsciiDigit(c) || c == '_') _pos++;
            else if (c == '.') { isFloat = true; _pos++; }
            else if (c is 'e' or 'E')
            {
                isFloat = true;
                _pos++;
                if (_pos < text.Length && text[_pos] is '+' or '-') _pos++;
            }
            else if (char.IsAsciiLetter(c)) throw Error($"number literal '{text[start..(_pos + 1)]}' is not supported (decimal integers and floats only)");
            else break;
        }
        var literal = text[start.._pos];
        var digits = literal.Replace("_", "");
        if (isFloat)
        {
            if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                throw Error($"'{literal}' is not a valid number");
            Add(TokenKind.Float, literal, start, d);
        }
        else
        {
            if (digits.Length > 1 && digits[0] == '0' && digits.Any(ch => ch != '0'))
                throw Error($"'{literal}': leading zeros in a decimal integer are not permitted in Python");
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                throw Error($"integer '{literal}' does not fit in 64 bits");
            Add(TokenKind.Integer, literal, start, l);
        }
    }

    private void Str(bool raw, int start)
    {
        var quote = text[_pos];
        if (string.CompareOrdinal(text, _pos, new string(quote, 3), 0, 3) == 0)
            throw Error("triple-quoted strings are not supported in a config (one-line string literals only)");
        _pos++;
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= text.Length || text[_pos] == '\n') throw Error("string literal is not closed on its line");
            var c = text[_pos++];
            if (c == quote) break;
            if (c != '\\') { value.Append(c); continue; }
            if (_pos >= text.Length) throw Error("string literal is not closed on its line");
            var e = text[_pos++];
            if (raw) { value.Append('\\').Append(e); continue; }
            value.Append(e switch
            {
                '\\' => "\\", '\'' => "'", '"' => "\"", 'n' => "\n", 't' => "\t", 'r' => "\r", '0' => "\0",
                _ => "\\" + e, // Python keeps unknown escapes as written
            });
        }
        Add(TokenKind.String, text[start.._pos], start, value.ToString());
    }

    private ConfigException Error(string what) => new($"{source} line {_line}: {what}");
}
