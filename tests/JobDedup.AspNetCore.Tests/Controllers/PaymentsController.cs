using Microsoft.AspNetCore.Mvc;

namespace JobDedup.AspNetCore.Tests.Controllers;

/// <summary>A controller whose POST is idempotent; it counts its runs.</summary>
[ApiController]
[Route("payments")]
public sealed class PaymentsController(PaymentRuns runs) : ControllerBase
{
    [HttpPost]
    [Idempotent]
    public IActionResult Create(Payment payment)
    {
        var run = runs.Next();
        return Created($"/payments/{run}", new { run, payment.Amount });
    }

    [HttpPost("fail")]
    [Idempotent]
    public IActionResult Fail() => throw new InvalidOperationException($"run {runs.Next()} failed");

    [HttpPost("plain")]
    public IActionResult Plain() => Ok(new { run = runs.Next() });
}

public sealed record Payment(decimal Amount);

public sealed class PaymentRuns
{
    private int _runs;

    public int Count => Volatile.Read(ref _runs);

    public int Next() => Interlocked.Increment(ref _runs);
}
