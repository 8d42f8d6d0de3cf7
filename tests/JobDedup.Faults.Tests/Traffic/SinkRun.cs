namespace JobDedup.Faults.Tests.Traffic;

/// <summary>One request the downstream service received: one handler run, as the downstream sees it.</summary>
/// <param name="Key">The job's key, read from the body's <c>id</c> (what the message carried, whatever the headers say).</param>
/// <param name="Worker">The worker that sent it (the last segment of the URL it posted to).</param>
/// <param name="Headers">Every request header, by lower-case name.</param>
/// <param name="At">When it arrived, on the test's stopwatch.</param>
internal sealed record SinkRun(string Key, string Worker, IReadOnlyDictionary<string, string> Headers, TimeSpan At)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
}
