using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;

namespace ActorFace.Actors.Tests.Security;

/// <summary>Collects the warning and error log lines of an actor system, and waits for one that matches.</summary>
public sealed class LogCapture : ReceiveActor
{
    readonly ConcurrentQueue<string> lines;

    public LogCapture(ConcurrentQueue<string> lines)
    {
        this.lines = lines;
        Receive<LogEvent>(e => lines.Enqueue($"{e.LogLevel()}: {e.Message} {e.Cause}"));
    }

    public static Func<Func<string, bool>, TimeSpan, Task<string?>> Attach(ActorSystem system)
    {
        var lines = new ConcurrentQueue<string>();
        var actor = system.ActorOf(Props.Create(() => new LogCapture(lines)));
        system.EventStream.Subscribe(actor, typeof(Warning));
        system.EventStream.Subscribe(actor, typeof(Error));
        return async (match, timeout) =>
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                var hit = lines.FirstOrDefault(match);
                if (hit != null) return hit;
                await Task.Delay(50);
            }
            return null;
        };
    }
}
