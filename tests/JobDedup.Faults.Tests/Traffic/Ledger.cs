using System.Text;
using JobDedup.RabbitMq;
using RabbitMQ.Client;

namespace JobDedup.Faults.Tests.Traffic;

/// <summary>
/// What a case published and what came back for each message, by correlation id: a success reply (the message was
/// acked with an outcome, led, joined or replayed) or a dead letter with its reason. A message counts once however
/// often its reply or dead letter is seen (a fault may deliver one twice).
/// </summary>
internal sealed class Ledger
{
    private readonly Dictionary<string, FaultMessage> _published = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _succeeded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _failedReplies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeadLetter> _dead = new(StringComparer.Ordinal);
    private readonly List<string> _strays = [];

    public int Published => _published.Count;

    public int Succeeded => _succeeded.Count;

    public IReadOnlyDictionary<string, DeadLetter> Dead => _dead;

    /// <summary>Gets the messages with neither a success reply nor a dead letter yet.</summary>
    public IEnumerable<string> Open => _published.Keys.Where(id => !_succeeded.ContainsKey(id) && !_dead.ContainsKey(id));

    public bool AllSettled => !Open.Any();

    public void Record(IEnumerable<FaultMessage> messages)
    {
        foreach (var message in messages)
        {
            _published.Add(message.Id, message);
        }
    }

    /// <summary>Files replies and dead letters taken off their queues.</summary>
    public void File(IEnumerable<BasicGetResult> replies, IEnumerable<BasicGetResult> deadLetters)
    {
        foreach (var reply in replies)
        {
            var id = reply.BasicProperties.CorrelationId ?? "(none)";
            var status = Text(reply.BasicProperties.Headers, JobDedupHeaders.Status);
            var into = status == "Failed" ? _failedReplies : _succeeded;
            into[id] = Text(reply.BasicProperties.Headers, JobDedupHeaders.Role) ?? "?";
            if (!_published.ContainsKey(id))
            {
                _strays.Add($"reply {id}");
            }
        }

        foreach (var letter in deadLetters)
        {
            var id = letter.BasicProperties.CorrelationId ?? "(none)";
            _dead[id] = new DeadLetter(
                id,
                Text(letter.BasicProperties.Headers, JobDedupHeaders.Reason) ?? "(no reason)",
                Text(letter.BasicProperties.Headers, JobDedupHeaders.ExceptionMessage) ?? string.Empty);
            if (!_published.ContainsKey(id))
            {
                _strays.Add($"dead letter {id}");
            }
        }
    }

    /// <summary>
    /// published = acked with an outcome + dead-lettered, each message exactly once, nothing that was not published.
    /// </summary>
    public void AssertAccounted(string context)
    {
        Assert.True(_strays.Count == 0, $"Answers for messages never published: {string.Join(", ", _strays.Take(10))}. {context}");
        var both = _succeeded.Keys.Where(_dead.ContainsKey).ToList();
        Assert.True(both.Count == 0, $"{both.Count} messages were both answered with success and dead-lettered, e.g. {string.Join(", ", both.Take(5))}. {context}");
        var open = Open.ToList();
        Assert.True(open.Count == 0, $"{open.Count} of {Published} messages were neither acked with an outcome nor dead-lettered, e.g. {string.Join(", ", open.Take(5))}. {context}");
        Assert.Equal(Published, Succeeded + _dead.Count);
    }

    /// <summary>Dead letters by reason, for messages.</summary>
    public Dictionary<string, int> DeadByReason() =>
        _dead.Values.GroupBy(d => d.Reason, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public string Summary() =>
        $"published {Published}, acked with an outcome {Succeeded}, dead-lettered {_dead.Count} ({string.Join(", ", DeadByReason().Select(r => $"{r.Key}: {r.Value}"))}), open {Open.Count()}";

    private static string? Text(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value)
            ? value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                null => null,
                _ => value.ToString(),
            }
            : null;
}
