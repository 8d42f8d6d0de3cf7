using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace JobDedup.AspNetCore.Tests.Support;

/// <summary>
/// The endpoint the tests make idempotent: it counts its runs, can be held open by a gate, and answers 201 with a
/// Location and a body naming its run (so a shared response is told from a second run), or the status the body asks for.
/// </summary>
public sealed class OrdersEndpoint
{
    private int _runs;

    public int Runs => Volatile.Read(ref _runs);

    /// <summary>Gets or sets a gate every run waits at (none by default).</summary>
    public Gate? Gate { get; set; }

    public async Task<IResult> HandleAsync(HttpRequest request)
    {
        var run = Interlocked.Increment(ref _runs);
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        if (Gate is { } gate)
        {
            await gate.WaitAsync();
        }

        var status = StatusOf(body);
        if (status == 599)
        {
            throw new InvalidOperationException($"run {run} failed");
        }

        return status == 201
            ? Results.Created($"/orders/{run}", new { run, body })
            : Results.Json(new { run, body }, statusCode: status);
    }

    /// <summary>The status a body asks for: <c>status=NNN</c> anywhere in it, or a JSON member "status"; 201 otherwise.</summary>
    private static int StatusOf(string body)
    {
        var at = body.IndexOf("status=", StringComparison.Ordinal);
        if (at >= 0 && int.TryParse(body.AsSpan(at + 7, 3), out var status))
        {
            return status;
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("status", out var member) && member.TryGetInt32(out status))
            {
                return status;
            }
        }
        catch (JsonException)
        {
        }

        return 201;
    }
}
