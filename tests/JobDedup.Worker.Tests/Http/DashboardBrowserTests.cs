using System.Globalization;
using JobDedup.Worker.Tests.Support;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace JobDedup.Worker.Tests.Http;

/// <summary>
/// The dashboard in headless Chromium against a worker consuming the real broker. With
/// <c>JOBDEDUP_DASHBOARD_SCREENSHOT</c> set to a file (scripts/screenshot.sh), the burst goes on for
/// <c>JOBDEDUP_DASHBOARD_BURST_SECONDS</c> (30 by default) and the screenshot is written there.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class DashboardBrowserTests(Broker broker)
{
    [Fact]
    public async Task Dashboard_DuringABurst_RendersThePipelineAndItsNumbersChange()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-dashboard");
        await using var sink = await HttpSink.StartAsync();
        sink.Respond = RespondLikeAService;
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink, ("MaxRetryAttempts", "1"), ("RetryDelay", "00:00:00.050")));
        using var browser = HeadlessChromium.Start();
        browser.Navigate().GoToUrl(worker.Address!);

        await Watchdog.Until(() => Text(browser, "handled") == "0", "the page showing the pipeline with nothing handled");
        Assert.Equal("orders", browser.FindElement(By.CssSelector("section.pipeline h2")).Text);
        Assert.Contains(queue.Name, browser.FindElement(By.CssSelector("section.pipeline")).Text, StringComparison.Ordinal);
        Assert.Contains("hidden", browser.FindElement(By.CssSelector("table[data-role='hottest']")).Text, StringComparison.Ordinal);

        // The burst, round by round: the page's numbers follow each round while more is still to come.
        var seen = new List<long>();
        var round = 0;
        for (; round < 3; round++)
        {
            await PublishRoundAsync(queue, round, messages: 60, keys: 12);
            var expected = (round + 1) * 60L;
            await Watchdog.Until(() => Number(Text(browser, "handled")) == expected, $"the page showing {expected} jobs answered");
            seen.Add(Number(Text(browser, "handled")));
        }

        Assert.Equal([60L, 120L, 180L], seen);
        // How many of the 180 were coalesced depends on timing; what the page shows must be what the worker counted.
        var runs = (await MetricsAndStatsTests.StatsAsync(worker)).GetProperty("pipelines")[0].GetProperty("totals").GetProperty("misses").GetInt64();
        await Watchdog.Until(() => Number(Text(browser, "runs")) == runs, $"the page showing the worker's {runs} handler runs");
        Assert.InRange(runs, 12, 180);
        await Watchdog.Until(() => Text(browser, "activity-pill") == "consuming", "the consumer shown as consuming");
        await Watchdog.Until(() => PaintedPixels(browser, 0) > 100, "the throughput chart drawn");

        var screenshot = Environment.GetEnvironmentVariable("JOBDEDUP_DASHBOARD_SCREENSHOT");
        if (screenshot is { Length: > 0 })
        {
            var seconds = int.TryParse(Environment.GetEnvironmentVariable("JOBDEDUP_DASHBOARD_BURST_SECONDS"), CultureInfo.InvariantCulture, out var s) ? s : 30;
            var until = DateTime.UtcNow.AddSeconds(Math.Clamp(seconds, 1, 600));
            using var pause = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            while (DateTime.UtcNow < until && round < 3 + (4 * 600))
            {
                // A burst that swells and ebbs, so the charts have a shape.
                var size = 20 + (int)(60 * (1 + Math.Sin(round / 6.0)));
                await PublishRoundAsync(queue, round++, size, keys: Math.Max(4, size / 5));
                await pause.WaitForNextTickAsync();
            }

            await PublishMissingKeyAsync(queue);
            await Watchdog.Until(
                () => browser.FindElement(By.CssSelector("table[data-role='dead-letters']")).Text.Contains("missing-key", StringComparison.Ordinal),
                "the messages without a key shown among the dead letters");
        }
        else
        {
            screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        }

        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(screenshot);
        var bytes = new FileInfo(screenshot).Length;
        Assert.True(bytes > 10_000, $"the screenshot at {screenshot} holds a rendered page (it has {bytes} bytes)");
    }

    private static async Task<(int Status, string Body)> RespondLikeAService(string key, int call, CancellationToken cancellationToken)
    {
        // A downstream service of uneven speed, one key it refuses, and one that fails once before it succeeds.
        await Task.Delay(5 + (Math.Abs(key.GetHashCode(StringComparison.Ordinal)) % 40), cancellationToken);
        return key switch
        {
            _ when key.EndsWith("_7", StringComparison.Ordinal) && call == 1 => (503, "busy"),
            _ when key.EndsWith("_11", StringComparison.Ordinal) => (422, "refused"),
            _ => (200, $"handled {key}"),
        };
    }

    private static async Task PublishRoundAsync(TestQueue queue, int round, int messages, int keys)
    {
        for (var i = 0; i < messages; i++)
        {
            await queue.PublishAsync(key: null, $"{{\"id\":\"evt_r{round}_{i % keys}\"}}");
        }
    }

    private static async Task PublishMissingKeyAsync(TestQueue queue)
    {
        for (var i = 0; i < 3; i++)
        {
            await queue.PublishAsync(key: null, "{\"amount\":1}");
        }
    }

    private static string? Text(ChromeDriver browser, string stat)
    {
        var found = stat == "activity-pill"
            ? browser.FindElements(By.CssSelector("section.pipeline [data-role='activity']"))
            : browser.FindElements(By.CssSelector($"section.pipeline [data-stat='{stat}']"));
        return found.Count == 0 ? null : found[0].Text;
    }

    private static long Number(string? text) =>
        long.TryParse(text?.Replace(",", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : -1;

    /// <summary>The number of pixels drawn on one of the pipeline's chart canvases.</summary>
    private static long PaintedPixels(ChromeDriver browser, int chart) => Convert.ToInt64(
        browser.ExecuteScript(
            """
            const canvas = document.querySelectorAll("section.pipeline canvas")[arguments[0]];
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
            return painted;
            """,
            chart),
        CultureInfo.InvariantCulture);
}
