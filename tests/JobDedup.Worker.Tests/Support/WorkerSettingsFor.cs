namespace JobDedup.Worker.Tests.Support;

/// <summary>Worker settings for one test's pipeline named <c>orders</c>, keyed by the JSON property <c>id</c>.</summary>
public static class WorkerSettingsFor
{
    public static Dictionary<string, string> Pipeline(TestQueue queue, HttpSink sink, params (string Name, string Value)[] extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["JobDedup__RabbitMq__Uri"] = Broker.Uri,
            ["JobDedup__ShutdownTimeout"] = "00:00:01",
            ["JobDedup__Pipelines__orders__Queue"] = queue.Name,
            ["JobDedup__Pipelines__orders__Key__Source"] = "JsonProperty",
            ["JobDedup__Pipelines__orders__Key__Name"] = "id",
            ["JobDedup__Pipelines__orders__RetryDelays__0"] = "00:00:00.050",
            ["JobDedup__Pipelines__orders__Handler__Url"] = sink.Url.ToString(),
        };
        foreach (var (name, value) in extra)
        {
            environment[name.StartsWith("JobDedup__", StringComparison.Ordinal) ? name : $"JobDedup__Pipelines__orders__{name}"] = value;
        }

        return environment;
    }
}
