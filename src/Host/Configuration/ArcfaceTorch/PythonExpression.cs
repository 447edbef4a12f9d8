namespace ActorFace.Host.Configuration.ArcfaceTorch;

/// <summary>
/// Evaluates the right-hand side of a `config.key = ...` line with Python's semantics for the subset arcface_torch's
/// configs use: int/float/str/True/False/None literals, lists, tuples (also bare `a, b`), unary ±, + − * / // % **
/// on numbers (int stays int except under /), + on strings, parentheses, and `config.other` for a key set earlier
/// in the same file. Anything else (calls, names, subscripts, comparisons) is an error naming the line.
/// </summary>
internal sealed class PythonExpression
{
    private readonly IReadOnlyList<Token> _tokens;
    private readonly string _source;
    private readonly Func<string, Token, object> _configValue;
    private int _pos;

    private PythonExpression(IReadOnlyList<Token> tokens, int start, string source, Func<string, Token, object> configValue)
    {
        (_tokens, _pos, _source, _configValue) = (tokens, start, source, configValue);
    }

    /// <summary>Evaluates tokens[start..] up to the end of the logical line; returns the value and the index of the Newline token.</summary>
    public static (object Value, int End) Evaluate(IReadOnlyList<Token> tokens, int start, string source, Func<string, Token, object> configValue)
    {
        var e = new PythonExpression(tokens, start, source, configValue);
        var value = e.ExpressionList(TokenKind.Newline);
        if (e.Peek.Kind != TokenKind.Newline) throw e.Unexpected();
        return (value, e._pos);
    }

    private Token Peek => _tokens[_pos];

    private bool IsOp(string op) => Peek.Kind == TokenKind.Op && Peek.Text == op;

    private Token Next() => _tokens[_pos++];

    // a, b, c  → tuple (as Python), a → a
    private object ExpressionList(TokenKind endKind, string? closer = null)
    {
        var first = Expression();
        if (!IsOp(",")) return first;
        var items = new List<object> { first };
        while (IsOp(","))
        {
            Next();
            if (Peek.Kind == endKind || (closer is not null && IsOp(closer))) break;
            items.Add(Expression());
        }
        return new PySequence(items, IsTuple: true);
    }

    private object Expression()
    {
        var left = Term();
        while (IsOp("+") || IsOp("-"))
        {
            var op = Next();
            left = Arithmetic(op, left, Term());
        }
        return left;
    }

    private object Term()
    {
        var left = Factor();
        while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))
        {
            var op = Next();
            left = Arithmetic(op, left, Factor());
        }
        return left;
    }

    private object Factor()
    {
        if (IsOp("-") || IsOp("+"))
        {
            var op = Next();
            var operand = Factor();
            return (op.Text, operand) switch
            {
                ("-", long l) => l == long.MinValue ? throw Error(op, "integer does not fit in 64 bits") : (object)(-l),
                ("-", double d) => -d,
                ("+", long or double) => operand,
                _ => throw Error(op, $"bad operand type for unary {op.Text}: '{PyRepr.TypeName(operand)}'"),
            };
        }
        return Power();
    }

    private object Power()
    {
        var atom = Atom();
        if (!IsOp("**")) return atom;
        var op = Next();
        return Arithmetic(op, atom, Factor());
    }

    private object Atom()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Integer:
            case TokenKind.Float:
                return t.Value!;
            case TokenKind.String:
            {
                var s = (string)t.Value!;
                while (Peek.Kind == TokenKind.String) s += (string)Next().Value!; // "a" "b" is "ab" in Python
                return s;
            }
            case TokenKind.Name when t.Text == "True": return true;
            case TokenKind.Name when t.Text == "False": return false;
            case TokenKind.Name when t.Text == "None": return PyNone.Value;
            case TokenKind.Name when t.Text == "config" && IsOp("."):
            {
                Next();
                var key = Next();
                if (key.Kind != TokenKind.Name) throw Error(key, "expected a key name after 'config.'");
                if (IsOp("(") || IsOp("[") || IsOp(".")) throw Unexpected();
                return _configValue(key.Text, key);
            }
            case TokenKind.Name:
                throw Error(t, $"'{t.Text}' is not something a config value can name: only literals, lists, tuples, arithmetic " +
                               "and config.<key> set earlier in the file are read (ActorFace never runs Python)");
            case TokenKind.Op when t.Text == "(":
            {
                if (IsOp(")")) { Next(); return new PySequence([], IsTuple: true); }
                var inner = ExpressionList(TokenKind.End, ")");
                Expect(")");
                // (x) is x; (x,) and (x, y) are tuples — ExpressionList already built those.
                return inner;
            }
            case TokenKind.Op when t.Text == "[":
            {
                var items = new List<object>();
                while (!IsOp("]"))
                {
                    items.Add(Expression());
                    if (!IsOp(",")) break;
                    Next();
                }
                Expect("]");
                return new PySequence(items, IsTuple: false);
            }
            default:
                _pos--;
                throw Unexpected();
        }
    }

    private void Expect(string op)
    {
        if (!IsOp(op)) throw Unexpected();
        Next();
    }

    private object Arithmetic(Token op, object a, object b)
    {
        if (op.Text == "+" && a is string sa && b is string sb) return sa + sb;
        if (a is bool || b is bool || a is not (long or double) || b is not (long or double))
            throw Error(op, $"unsupported operand types for {op.Text}: '{PyRepr.TypeName(a)}' and '{PyRepr.TypeName(b)}'");
        try
        {
            if (a is long x && b is long y)
            {
                // Arms typed as object: a switch of long and double arms would silently make every result a double.
                return op.Text switch
                {
                    "+" => (object)checked(x + y),
                    "-" => checked(x - y),
                    "*" => checked(x * y),
                    "/" => y == 0 ? throw Error(op, "division by zero") : (double)x / y,
                    "//" => y == 0 ? throw Error(op, "integer division by zero") : FloorDiv(x, y),
                    "%" => y == 0 ? throw Error(op, "integer modulo by zero") : FloorMod(x, y),
                    "**" => y >= 0 ? IntPow(x, y) : (object)Math.Pow(x, y),
                    _ => throw Unexpected(),
                };
            }
            var (p, q) = (Convert.ToDouble(a), Convert.ToDouble(b));
            if (q == 0 && op.Text is "/" or "//" or "%") throw Error(op, "float division by zero");
            return op.Text switch
            {
                "+" => p + q,
                "-" => p - q,
                "*" => p * q,
                "/" => p / q,
                "//" => Math.Floor(p / q),
                "%" => p - q * Math.Floor(p / q),
                "**" => Math.Pow(p, q),
                _ => throw Unexpected(),
            };
        }
        catch (OverflowException)
        {
            throw Error(op, "integer result does not fit in 64 bits");
        }
    }

    private static long FloorDiv(long x, long y)
    {
        var q = x / y;
        return x % y != 0 && (x < 0) != (y < 0) ? q - 1 : q;
    }

    private static long FloorMod(long x, long y)
    {
        var r = x % y;
        return r != 0 && (r < 0) != (y < 0) ? r + y : r;
    }

    private static long IntPow(long x, long y)
    {
        if (x is 0 or 1) return y == 0 ? 1 : x;
        if (x == -1) return y % 2 == 0 ? 1 : -1;
        long result = 1; // |x| >= 2: overflows within 63 rounds
        for (long i = 0; i < y; i++) result = checked(result * x);
        return result;
    }

    private ConfigException Unexpected()
    {
        var t = Peek;
        var what = t.Kind switch
        {
            TokenKind.Newline or TokenKind.End => "unexpected end of the line",
            _ => $"unexpected '{t.Text}'",
        };
        return Error(t, what + " (a config value is a literal, a list, a tuple, arithmetic or config.<key>)");
    }

    private ConfigException Error(Token at, string what) => new($"{_source} line {at.Line}: {what}");
}
