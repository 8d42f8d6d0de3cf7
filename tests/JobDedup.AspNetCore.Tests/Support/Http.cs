using System.Text;

namespace JobDedup.AspNetCore.Tests.Support;

/// <summary>Requests and their answers as the tests compare them.</summary>
public static class Http
{
    public static HttpRequestMessage Post(string path, string? key, string body, string mediaType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return request;
    }

    public static async Task<Answer> SendAsync(this HttpClient client, string path, string? key, string body, string mediaType = "application/json", CancellationToken cancellationToken = default)
    {
        using var request = Post(path, key, body, mediaType);
        using var response = await client.SendAsync(request, cancellationToken);
        return await Answer.ReadAsync(response);
    }
}

/// <summary>What a response said: status, the headers the tests look at, and the body.</summary>
public sealed record Answer(int Status, string Body, string? Location, string? ContentType, bool Replayed)
{
    public static async Task<Answer> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";
        return new Answer((int)response.StatusCode, body, response.Headers.Location?.ToString(), response.Content.Headers.ContentType?.ToString(), replayed);
    }

    /// <summary>Asserts that this answer is <paramref name="first"/> given again to a repeat: same status, headers kept, body, and marked replayed.</summary>
    public void AssertReplayOf(Answer first)
    {
        Assert.True(Replayed, $"the answer is not marked replayed: {Status} {Body}");
        Assert.Equal(first.Status, Status);
        Assert.Equal(first.Body, Body);
        Assert.Equal(first.Location, Location);
        Assert.Equal(first.ContentType, ContentType);
    }
}
