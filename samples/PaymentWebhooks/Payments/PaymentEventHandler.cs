using JobDedup;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Telemetry;

namespace PaymentWebhooks.Payments;

/// <summary>
/// Records a payment event in the ledger. JobDedup runs it once per event id: copies that arrive while it runs share
/// its answer, and copies within the dedupe window get that answer back without a run.
/// </summary>
internal sealed class PaymentEventHandler(IChargeLedger ledger, ILogger<PaymentEventHandler> logger) : IJobHandler<PaymentEvent, Charge>
{
    /// <inheritdoc/>
    public async ValueTask<Charge> HandleAsync(PaymentEvent job, JobContext context, CancellationToken cancellationToken)
    {
        var charge = await ledger.RecordAsync(job, cancellationToken);
        Log.ChargeRecorded(logger, job.Id, charge.Id, context.Attempt);
        return charge;
    }
}
