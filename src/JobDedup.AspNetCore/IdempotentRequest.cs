using System.Diagnostics;
using JobDedup.AspNetCore.Execution;
using Microsoft.AspNetCore.Http;

namespace JobDedup.AspNetCore;

/// <summary>
/// One HTTP request as a job of the deduplicator that <c>AddIdempotency</c> registers. It carries the request's
/// fingerprint and a way to run its endpoint in the request's own HttpContext; nothing of it is stored.
/// </summary>
public sealed class IdempotentRequest
{
    private readonly IdempotentEndpoint _endpoint;
    private readonly HttpContext _context;
    private readonly RequestDelegate _run;
    private readonly ExecutionContext? _executionContext;
    private int _state = (int)RunState.Pending;

    // The run's end, read once the state says it ran; a task is made only for a request that waits before that.
    private IdempotentResponse? _response;
    private Exception? _failure;
    private TaskCompletionSource<IdempotentResponse>? _ended;

    internal IdempotentRequest(string fingerprint, IdempotentEndpoint endpoint, HttpContext context, RequestDelegate run)
    {
        Fingerprint = fingerprint;
        _endpoint = endpoint;
        _context = context;
        _run = run;
        // The endpoint runs on the engine's thread; it must see the request's ambient state (the HttpContext accessor,
        // the current activity, logging scopes) as if it ran in the request's own flow.
        _executionContext = ExecutionContext.Capture();
    }

    /// <summary>Gets the request's fingerprint: its method, path and body (JSON in canonical form).</summary>
    internal string Fingerprint { get; }

    /// <summary>Gets where the run stands.</summary>
    internal RunState State => (RunState)Volatile.Read(ref _state);

    /// <summary>Waits for the run's end: the captured response, or the endpoint's exception.</summary>
    internal ValueTask<IdempotentResponse> WhenEndedAsync()
    {
        if (State == RunState.Ran)
        {
            return Ending();
        }

        var created = new TaskCompletionSource<IdempotentResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = Interlocked.CompareExchange(ref _ended, created, null) ?? created;

        // The run may have ended before it could see the task (both sides fence, so one of them sees the other).
        if (State == RunState.Ran)
        {
            Publish(ended);
        }

        return new(ended.Task);
    }

    /// <summary>Withdraws a job that has not started; fails when it is running or ran (its caller must wait for it).</summary>
    /// <returns><see langword="true"/> when the job will never run.</returns>
    internal bool TryWithdraw()
    {
        var withdrawn = Interlocked.CompareExchange(ref _state, (int)RunState.Withdrawn, (int)RunState.Pending) == (int)RunState.Pending;
        AssertInvariants();
        return withdrawn || State == RunState.Withdrawn;
    }

    /// <summary>Runs the endpoint once, unless the request was withdrawn.</summary>
    /// <exception cref="OperationCanceledException">The request left before its turn came.</exception>
    internal async ValueTask<IdempotentResponse> RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, (int)RunState.Running, (int)RunState.Pending) != (int)RunState.Pending)
        {
            throw new OperationCanceledException("The request left before its endpoint started, so it was not run.");
        }

        AssertInvariants();
        try
        {
            // Run in the request's own flow already (the request that starts the run runs its endpoint itself), or
            // in that flow restored.
            var task = _executionContext is null || ReferenceEquals(_executionContext, ExecutionContext.Capture())
                ? _endpoint.RunAsync(_context, _run, cancellationToken)
                : StartInRequestFlow(_executionContext, cancellationToken);
            var response = await task.ConfigureAwait(false);
            End(response, failure: null);
            return response;
        }
        catch (Exception ex)
        {
            End(response: null, ex);
            throw;
        }
    }

    /// <summary>Starts the endpoint in the request's captured flow (apart, so that the usual path makes no closure).</summary>
    private ValueTask<IdempotentResponse> StartInRequestFlow(ExecutionContext flow, CancellationToken cancellationToken)
    {
        ValueTask<IdempotentResponse> task = default;
        ExecutionContext.Run(flow, _ => task = _endpoint.RunAsync(_context, _run, cancellationToken), null);
        return task;
    }

    private void End(IdempotentResponse? response, Exception? failure)
    {
        _response = response;
        _failure = failure;
        Interlocked.Exchange(ref _state, (int)RunState.Ran);
        AssertInvariants();
        if (Volatile.Read(ref _ended) is { } ended)
        {
            Publish(ended);
        }
    }

    private ValueTask<IdempotentResponse> Ending() =>
        _failure is { } failure ? ValueTask.FromException<IdempotentResponse>(failure) : new(_response!);

    private void Publish(TaskCompletionSource<IdempotentResponse> ended)
    {
        if (_failure is { } failure)
        {
            ended.TrySetException(failure);
        }
        else
        {
            ended.TrySetResult(_response!);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        var state = State;
        Debug.Assert(Enum.IsDefined(state), $"Unknown run state {state}.");
        Debug.Assert(state == RunState.Ran || Volatile.Read(ref _ended) is not { Task.IsCompleted: true }, $"The run ended while {state}.");
    }
}
