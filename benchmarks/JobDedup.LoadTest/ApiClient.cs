using System.Net.Http.Json;
using System.Text.Json;

namespace JobDedup.LoadTest;

/// <summary>The web API's management endpoints: readiness, description and counters.</summary>
internal sealed class ApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ServerInfo> AboutAsync(CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync<ServerInfo>("/about", Json, cancellationToken)
        ?? throw new InvalidOperationException("/about returned nothing.");

    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync("/stats/reset", content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public async Task<ServerCounters> CountersAsync(CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync("/stats", cancellationToken));
        var root = document.RootElement;
        var shared = root.GetProperty("sharedCall");
        return new ServerCounters(
            root.GetProperty("databaseQueries").GetInt64(),
            shared.GetProperty("hits").GetInt64(),
            shared.GetProperty("misses").GetInt64(),
            shared.GetProperty("errors").GetInt64());
    }
}
