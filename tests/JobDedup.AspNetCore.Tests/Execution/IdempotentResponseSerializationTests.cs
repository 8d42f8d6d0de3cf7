using System.Text.Json;

namespace JobDedup.AspNetCore.Tests.Execution;

/// <summary>The kept response as the PostgreSQL and Redis stores write it: System.Text.Json with default options.</summary>
public sealed class IdempotentResponseSerializationTests
{
    [Fact]
    public void IdempotentResponse_RoundTripsThroughDefaultJson()
    {
        var response = new IdempotentResponse(
            201,
            new Dictionary<string, string[]> { ["Location"] = ["/orders/1"], ["Content-Type"] = ["application/json; charset=utf-8"] },
            [0, 1, 2, 255, (byte)'{']);

        var copy = JsonSerializer.Deserialize<IdempotentResponse>(JsonSerializer.SerializeToUtf8Bytes(response))!;

        Assert.Equal(201, copy.StatusCode);
        Assert.Equal(response.Body, copy.Body);
        Assert.Equal(["/orders/1"], copy.Headers["Location"]);
        Assert.Equal(["application/json; charset=utf-8"], copy.Headers["Content-Type"]);
    }
}
