using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace JobDedup.LoadTest;

/// <summary>Sends one run's requests and measures each of them.</summary>
internal sealed class LoadRunner(Uri baseAddress, int requests, int concurrency, int productId, TextWriter console)
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="endpoint"/> ("normal" or "coalesced") under <paramref name="shape"/>.</summary>
    public async Task<RunResult> RunAsync(string endpoint, LoadShape shape, ApiClient api, CancellationToken cancellationToken)
    {
        var path = $"/product/{endpoint}/{productId}";

        // A few requests first, on their own connections, so that JIT, the database pool and the first query are not in
        // the measurement.
        using (var warmUp = NewClient())
        {
            await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SendAsync(warmUp, path, cancellationToken)));
        }

        await api.ResetAsync(cancellationToken);

        // Each run opens new connections, as the original's curl processes did, so neither endpoint inherits warm ones.
        using var client = NewClient();

        var samples = new RequestSample[requests];
        var progress = new ProgressCounter();
        using var stopProgress = new CancellationTokenSource();
        var started = Stopwatch.GetTimestamp();
        var reporter = ReportProgressAsync(endpoint, shape, progress, started, stopProgress.Token);

        if (shape == LoadShape.Waves)
        {
            // The original started waves of `concurrency` requests and waited only after the last wave, so no wave
            // waits for an answer: every request is started at once.
            var all = new Task[requests];
            for (var i = 0; i < requests; i++)
            {
                all[i] = MeasureAsync(client, path, samples, i, progress, cancellationToken);
            }

            await Task.WhenAll(all);
        }
        else
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < requests)
                {
                    await MeasureAsync(client, path, samples, i, progress, cancellationToken);
                }
            }));
        }

        var duration = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await stopProgress.CancelAsync();
        await reporter;
        var counters = await api.CountersAsync(cancellationToken);
        return new RunResult(endpoint, shape, samples, duration, counters);
    }

    private HttpClient NewClient() =>
        new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) }, disposeHandler: true)
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(3),
        };

    private async Task MeasureAsync(HttpClient client, string path, RequestSample[] samples, int index, ProgressCounter progress, CancellationToken cancellationToken)
    {
        // Yield first so that starting a wave is not held up by the synchronous part of the previous send.
        await Task.Yield();
        var start = Stopwatch.GetTimestamp();
        var failure = await SendAsync(client, path, cancellationToken);
        samples[index] = new RequestSample(Stopwatch.GetElapsedTime(start).TotalSeconds, failure is null, failure);
        progress.Done(failure is null);
    }

    /// <summary>Sends one request; returns null when the answer is the requested product, else why not.</summary>
    private async Task<string?> SendAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return $"HTTP {(int)response.StatusCode}";
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var product = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return product.RootElement.TryGetProperty("id", out var id) && id.GetInt32() == productId ? null : "wrong body";
        }
        catch (HttpRequestException ex)
        {
            return ex.HttpRequestError.ToString();
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "client timeout";
        }
        catch (JsonException)
        {
            return "unreadable body";
        }
    }

    private async Task ReportProgressAsync(string endpoint, LoadShape shape, ProgressCounter progress, long started, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ProgressEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await console.WriteLineAsync(
                    $"  {endpoint} ({Describe.ShortName(shape)}): {progress.Completed,4}/{requests} answered, {progress.Failed} failed, {Stopwatch.GetElapsedTime(started).TotalSeconds,5:F1} s");
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run ended.
        }
    }
}
