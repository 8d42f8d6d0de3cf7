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

/// <summary>A controller idempotent as a whole, with one action that names its own option set.</summary>
[ApiController]
[Route("refunds")]
[Idempotent]
public sealed class RefundsController(PaymentRuns runs) : ControllerBase
{
    [HttpPost]
    public IActionResult Create() => Ok(new { run = runs.Next(), set = "controller" });

    [HttpPost("urgent")]
    [Idempotent("urgent")]
    public IActionResult Urgent() => Ok(new { run = runs.Next(), set = "urgent" });
}

public sealed record Payment(decimal Amount);

public sealed class PaymentRuns
{
    private int _runs;

    public int Count => Volatile.Read(ref _runs);

    public int Next() => Interlocked.Increment(ref _runs);
}
