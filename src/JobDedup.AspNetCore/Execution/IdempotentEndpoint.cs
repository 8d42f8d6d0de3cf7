using System.Collections.ObjectModel;
using JobDedup.AspNetCore.Capture;
using JobDedup.AspNetCore.Fingerprints;
using JobDedup.AspNetCore.Keys;
using JobDedup.AspNetCore.Responses;
using JobDedup.AspNetCore.Telemetry;
using Microsoft.AspNetCore.Http;

namespace JobDedup.AspNetCore.Execution;

/// <summary>
/// Runs one idempotent endpoint (a minimal API endpoint or a controller action): reads the key, fingerprints the
/// request, and hands the request to the engine. The request whose job the engine runs executes its endpoint in its own
/// HttpContext with the response held back, so that the response can be kept and shared; every other request with the
/// key gets that response (or a problem response saying why not).
/// </summary>
internal sealed class IdempotentEndpoint
{
    private readonly IdempotencyPolicy _policy;
    private readonly IdempotencyOptions _options;
    private readonly string[] _replayHeaders;
    private IReadOnlyDictionary<string, string[]>? _lastKeptHeaders;

    private IdempotentEndpoint(IdempotencyPolicy policy, IdempotencyOptions options)
    {
        _policy = policy;
        _options = options;
        _replayHeaders = [.. options.ReplayHeaders];
    }

    /// <summary>Builds the endpoint's settings from a registered option set, refined by <paramref name="configure"/>.</summary>
    /// <exception cref="InvalidOperationException">The option set is not registered, or the refined settings are invalid or change a setting of the option set's deduplicator.</exception>
    public static IdempotentEndpoint Create(IServiceProvider services, string policyName, Action<IdempotencyOptions>? configure)
    {
        var policy = IdempotencyPolicy.Resolve(services, policyName);
        var options = policy.Options;
        if (configure is not null)
        {
            options = options.Clone();
            configure(options);
            var errors = options.Validate();
            if (options.DedupeWindow != policy.Options.DedupeWindow)
            {
                errors.Add($"{nameof(IdempotencyOptions.DedupeWindow)} belongs to the registered option set; set it in AddIdempotency, not per endpoint.");
            }

            if (options.WhenInFlight != policy.Options.WhenInFlight)
            {
                errors.Add($"{nameof(IdempotencyOptions.WhenInFlight)} belongs to the registered option set; set it in AddIdempotency, not per endpoint.");
            }

            if (errors.Count > 0)
            {
                throw new InvalidOperationException($"Invalid idempotency options for an endpoint: {string.Join(" ", errors)}");
            }
        }

        return new IdempotentEndpoint(policy, options);
    }

    /// <summary>Handles one request; <paramref name="endpoint"/> runs the endpoint in <paramref name="context"/>.</summary>
    public Task ExecuteAsync(HttpContext context, Func<Task> endpoint) => ExecuteAsync(context, _ => endpoint());

    /// <summary>Handles one request; <paramref name="endpoint"/> is the endpoint's own request delegate.</summary>
    public async Task ExecuteAsync(HttpContext context, RequestDelegate endpoint)
    {
        var reading = IdempotencyKeys.Read(context, _options, _policy.KeyPolicy);
        if (reading.Kind == KeyReadingKind.Missing && !_options.RequireKey)
        {
            await endpoint(context).ConfigureAwait(false);
            return;
        }

        if (reading.Kind != KeyReadingKind.Accepted)
        {
            var detail = reading.Problem ?? $"This endpoint needs an idempotency key in the {_options.KeyHeader} header.";
            Log.KeyRefused(_policy.Logger, Describe(context), detail);
            await ResponseWriter.ProblemAsync(context, StatusCodes.Status400BadRequest, "Idempotency key missing or unusable", detail).ConfigureAwait(false);
            return;
        }

        var fingerprint = await RequestFingerprint.ComputeAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        var job = new IdempotentRequest(fingerprint, this, context, endpoint);
        JobOutcome<IdempotentResponse> outcome;
        try
        {
            outcome = await _policy.Deduplicator.EnqueueAsync(reading.EngineKey!, job, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ObjectDisposedException ex)
        {
            Log.Unavailable(_policy.Logger, Describe(context), JobStatus.Canceled, ex);
            await UnavailableAsync(context, "The application is shutting down.").ConfigureAwait(false);
            return;
        }

        if (job.TryWithdraw())
        {
            await AnswerRepeatAsync(context, outcome).ConfigureAwait(false);
            return;
        }

        // This request's endpoint ran, in this HttpContext: whatever the engine told this caller (it may have stopped
        // waiting when its client left), the context is in use until the run ends. Its failure goes to the pipeline.
        var own = await job.WhenEndedAsync().ConfigureAwait(false);
        if (!context.RequestAborted.IsCancellationRequested)
        {
            await ResponseWriter.WriteBodyAsync(context, own.Body).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the endpoint of the request that leads its key's run, holding its response back (see <see cref="IdempotentRequest"/>).</summary>
    internal async ValueTask<IdempotentResponse> RunAsync(HttpContext context, RequestDelegate endpoint, CancellationToken runToken)
    {
        // The endpoint is canceled only when the run is (at shutdown), not when this request's client leaves: other
        // requests with the key may be waiting for its response, and a retry of the client should find it kept.
        var aborted = context.RequestAborted;
        var capture = ResponseCapture.Start(context);
        context.RequestAborted = runToken;
        byte[] body;
        try
        {
            await endpoint(context).ConfigureAwait(false);
            body = capture.ToArray();
        }
        finally
        {
            context.RequestAborted = aborted;
            capture.Dispose();
        }

        var status = context.Response.StatusCode;
        return new IdempotentResponse(status, KeptHeaders(context.Response), body) { Keep = ShouldKeep(context, status, body.Length) };
    }

    /// <summary>Whether a response is kept: successes and the client errors the classifier keeps, within the size cap.</summary>
    private bool ShouldKeep(HttpContext context, int status, long bytes)
    {
        if (status >= 500 || (status >= 400 && !_options.KeepClientError(status)))
        {
            Log.ResponseNotKept(_policy.Logger, Describe(context), status);
            return false;
        }

        if (bytes > _options.MaxBodyBytes)
        {
            Log.ResponseTooLarge(_policy.Logger, Describe(context), bytes, _options.MaxBodyBytes);
            return false;
        }

        return true;
    }

    /// <summary>
    /// The headers kept with a response. Responses of one endpoint mostly keep the same ones (a content type), so a
    /// response whose kept headers equal those of the endpoint's previous response shares that response's (read-only)
    /// collection: thousands of answers held in memory then cost one collection, not one each.
    /// </summary>
    private IReadOnlyDictionary<string, string[]> KeptHeaders(HttpResponse response)
    {
        if (Volatile.Read(ref _lastKeptHeaders) is { } last && HasKeptHeaders(response, last))
        {
            return last;
        }

        var kept = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in _replayHeaders)
        {
            if (response.Headers.TryGetValue(name, out var values) && values.Count > 0)
            {
                kept[name] = values.ToArray()!;
            }
        }

        // Read-only, as it may be shared by many kept answers.
        var shared = new ReadOnlyDictionary<string, string[]>(kept);
        Volatile.Write(ref _lastKeptHeaders, shared);
        return shared;
    }

    /// <summary>Whether the headers <paramref name="response"/> would keep are exactly <paramref name="kept"/>.</summary>
    private bool HasKeptHeaders(HttpResponse response, IReadOnlyDictionary<string, string[]> kept)
    {
        var matched = 0;
        foreach (var name in _replayHeaders)
        {
            var present = response.Headers.TryGetValue(name, out var values) && values.Count > 0;
            if (!present)
            {
                continue;
            }

            if (!kept.TryGetValue(name, out var keptValues) || keptValues.Length != values.Count)
            {
                return false;
            }

            for (var i = 0; i < keptValues.Length; i++)
            {
                if (!string.Equals(keptValues[i], values[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            matched++;
        }

        return matched == kept.Count;
    }

    private async Task AnswerRepeatAsync(HttpContext context, JobOutcome<IdempotentResponse> outcome)
    {
        var action = OutcomeDecision.Decide(outcome.Status, _options.WhenInFlight, context.RequestAborted.IsCancellationRequested);
        switch (action)
        {
            case OutcomeAction.Replay:
                await ResponseWriter.ReplayAsync(context, outcome.Value!, _options.ReplayedHeader).ConfigureAwait(false);
                break;
            case OutcomeAction.RunFailed:
                Log.SharedRunFailed(_policy.Logger, Describe(context), outcome.Exception);
                await ResponseWriter.ProblemAsync(
                    context,
                    StatusCodes.Status500InternalServerError,
                    "The request with this idempotency key failed",
                    "The first request with this key failed while this one waited for it; nothing was kept, so the request may be sent again.").ConfigureAwait(false);
                break;
            case OutcomeAction.Mismatch:
                Log.Mismatch(_policy.Logger, Describe(context));
                await MismatchAsync(context, outcome.Exception as PayloadMismatchException).ConfigureAwait(false);
                break;
            case OutcomeAction.InFlight:
                await InFlightAsync(context).ConfigureAwait(false);
                break;
            case OutcomeAction.Unavailable:
                Log.Unavailable(_policy.Logger, Describe(context), outcome.Status, outcome.Exception);
                await UnavailableAsync(context, "The request could not be handled now; send it again with the same key.").ConfigureAwait(false);
                break;
            case OutcomeAction.ClientGone:
            default:
                break;
        }
    }

    private Task MismatchAsync(HttpContext context, PayloadMismatchException? mismatch)
    {
        var difference = FingerprintDifference.Between(mismatch?.Fingerprint, mismatch?.ExistingFingerprint);
        var name = _options.KeySelector is null ? $"{_options.KeyHeader}" : "idempotency key";
        string detail;
        Dictionary<string, object?>? extensions = null;
        if (difference is { EarlierMethod: not null })
        {
            detail = $"This {name} was already used for {difference.EarlierMethod} {difference.EarlierTarget}.";
        }
        else if (difference is { Members.Count: > 0 })
        {
            detail = $"This {name} was already used for a request with a different body; these members differ: {string.Join(", ", difference.Members)}.";
            extensions = new Dictionary<string, object?> { ["members"] = difference.Members };
        }
        else
        {
            detail = $"This {name} was already used for a request with a different body.";
        }

        return ResponseWriter.ProblemAsync(context, StatusCodes.Status422UnprocessableEntity, "Idempotency key reused for a different request", detail, extensions);
    }

    private static Task InFlightAsync(HttpContext context) =>
        ResponseWriter.ProblemAsync(
            context,
            StatusCodes.Status409Conflict,
            "A request with this idempotency key is in progress",
            "The first request with this key has not finished; send this one again once it has.");

    private static Task UnavailableAsync(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        return ResponseWriter.ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "Idempotency unavailable", detail);
    }

    private static string Describe(HttpContext context) => context.GetEndpoint()?.DisplayName ?? context.Request.Path.Value ?? "/";
}
