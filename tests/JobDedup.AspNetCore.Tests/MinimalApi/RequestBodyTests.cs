using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using JobDedup.AspNetCore.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.AspNetCore.Tests.MinimalApi;

/// <summary>The body is read to be fingerprinted; the endpoint still gets all of it, through the stream or the pipe.</summary>
public sealed class RequestBodyTests
{
    [Fact]
    public async Task Post_BoundJsonParameter_ReceivesTheWholeBody()
    {
        await using var app = await TestApp.StartAsync(
            s => s.AddIdempotency(),
            a => a.MapPost("/lines", (OrderLine line) => Results.Ok(line)).WithIdempotency());

        var answer = await app.Client.SendAsync("/lines", "line-1", """{ "sku" : "tea", "quantity" : 3 }""");

        Assert.Equal(200, answer.Status);
        Assert.Equal("""{"sku":"tea","quantity":3}""", answer.Body);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(3 * 1024 * 1024)]
    public async Task Post_EndpointReadingStreamAndPipe_ReceivesTheWholeBodyThroughBoth(int length)
    {
        // Larger than the server's request buffer (1 MB), the body comes in many reads.
        var body = new string('t', length);
        await using var app = await TestApp.StartAsync(
            s => s.AddIdempotency(),
            a => a.MapPost("/raw", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var streamed = await reader.ReadToEndAsync();
                var piped = await ReadToEndAsync(request.BodyReader);
                return Results.Text($"{streamed.Length} {Digest(streamed)} {piped.Length} {Digest(piped)}");
            }).WithIdempotency());

        var answer = await app.Client.SendAsync("/raw", "raw-1", body, "text/plain");

        Assert.Equal(200, answer.Status);
        Assert.Equal($"{length} {Digest(body)} {length} {Digest(body)}", answer.Body);
    }

    [Fact]
    public async Task ComputeAsync_ARequest_GivesTheFirstVersionsFingerprintAndLeavesTheBodyReadableTwice()
    {
        const string json = """{ "b" : [1, 2.50], "a" : "é" }""";
        var context = new DefaultHttpContext();
        context.Request.Method = "post";
        context.Request.PathBase = "/base";
        context.Request.Path = "/orders/é one";
        context.Request.QueryString = new QueryString("?x=1%202&y=z");
        context.Request.ContentType = "application/json; charset=utf-8";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));

        var fingerprint = await AspNetCore.Fingerprints.RequestFingerprint.ComputeAsync(context.Request, CancellationToken.None);

        var target = context.Request.PathBase.Add(context.Request.Path).ToUriComponent() + context.Request.QueryString.ToUriComponent();
        Assert.Equal(Fingerprints.ReferenceFingerprint.Compose("post", target, Encoding.UTF8.GetBytes(json), isJson: true), fingerprint);
        using var reader = new StreamReader(context.Request.Body);
        Assert.Equal(json, await reader.ReadToEndAsync());
        Assert.Equal(json, await ReadToEndAsync(context.Request.BodyReader));
    }

    [Fact]
    public async Task ComputeAsync_BodyReplacedAfterwards_PipeFollowsTheNewStream()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream("first"u8.ToArray());
        await AspNetCore.Fingerprints.RequestFingerprint.ComputeAsync(context.Request, CancellationToken.None);

        context.Request.Body = new MemoryStream("second"u8.ToArray());

        Assert.Equal("second", await ReadToEndAsync(context.Request.BodyReader));
    }

    private static async Task<string> ReadToEndAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            if (result.IsCompleted)
            {
                var text = Encoding.UTF8.GetString(result.Buffer.ToArray());
                reader.AdvanceTo(result.Buffer.End);
                return text;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>The body the JSON-binding endpoint takes.</summary>
public sealed record OrderLine(string Sku, int Quantity);
