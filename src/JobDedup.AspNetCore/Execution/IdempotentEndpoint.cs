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

    private IdempotentEndpoint(IdempotencyPolicy policy, IdempotencyOptions options)
    {
        _policy = policy;
        _options = options;
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
    public async Task ExecuteAsync(HttpContext context, Func<Task> endpoint)
    {
        var reading = IdempotencyKeys.Read(context, _options, _policy.KeyPolicy);
        if (reading.Kind == KeyReadingKind.Missing && !_options.RequireKey)
        {
            await endpoint().ConfigureAwait(false);
            return;
        }

        if (reading.Kind != KeyReadingKind.Accepted)
        {
            var detail = reading.Problem ?? $"This endpoint needs an idempotency key in the {_options.KeyHeader} header.";
            Log.KeyRefused(_policy.Logger, Describe(context), detail);
            await ResponseWriter.ProblemAsync(context, StatusCodes.Status400BadRequest, "Idempotency key missing or unusable", detail).ConfigureAwait(false);
            return;
        }

        var key = reading.EngineKey!;
        var fingerprint = await RequestFingerprint.ComputeAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        var answer = await RunOrShareAsync(context, key, fingerprint, endpoint).ConfigureAwait(false);
        await answer().ConfigureAwait(false);
    }

    /// <summary>Hands the request to the engine; returns how to answer it once the key's run is over.</summary>
    private async Task<Func<Task>> RunOrShareAsync(HttpContext context, string key, string fingerprint, Func<Task> endpoint)
    {
        var job = new IdempotentRequest(fingerprint, token => RunEndpointAsync(context, endpoint, token));
        JobOutcome<IdempotentResponse> outcome;
        try
        {
            outcome = await _policy.Deduplicator.EnqueueAsync(key, job, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ObjectDisposedException ex)
        {
            Log.Unavailable(_policy.Logger, Describe(context), JobStatus.Canceled, ex);
            return () => UnavailableAsync(context, "The application is shutting down.");
        }

        if (job.TryWithdraw())
        {
            return () => AnswerRepeatAsync(context, outcome);
        }

        // This request's endpoint ran, in this HttpContext: whatever the engine told this caller (it may have stopped
        // waiting when its client left), the context is in use until the run ends. Its failure goes to the pipeline.
        var own = await job.Ended.ConfigureAwait(false);
        return () => context.RequestAborted.IsCancellationRequested ? Task.CompletedTask : ResponseWriter.WriteBodyAsync(context, own.Body);
    }

    private async Task<IdempotentResponse> RunEndpointAsync(HttpContext context, Func<Task> endpoint, CancellationToken runToken)
    {
        // The endpoint is canceled only when the run is (at shutdown), not when this request's client leaves: other
        // requests with the key may be waiting for its response, and a retry of the client should find it kept.
        var aborted = context.RequestAborted;
        var capture = ResponseCapture.Start(context);
        context.RequestAborted = runToken;
        byte[] body;
        try
        {
            await endpoint().ConfigureAwait(false);
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

    private Dictionary<string, string[]> KeptHeaders(HttpResponse response)
    {
        var kept = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in _options.ReplayHeaders)
        {
            if (response.Headers.TryGetValue(name, out var values) && values.Count > 0)
            {
                kept[name] = values.ToArray()!;
            }
        }

        return kept;
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
