namespace JobDedup.Claims;

/// <summary>The settings every claim of one deduplicator shares.</summary>
/// <param name="Owner">Who claims, as the store records it (for diagnostics).</param>
/// <param name="Lease">How long a claim holds without renewal.</param>
/// <param name="RenewInterval">How often a held claim is renewed; also how long one renewal may take.</param>
/// <param name="WhenKeyBusy">What a flight does when another instance holds its key.</param>
/// <param name="TimeProvider">The clock of renewals.</param>
internal sealed record ClaimSettings(string Owner, TimeSpan Lease, TimeSpan RenewInterval, BusyKeyMode WhenKeyBusy, TimeProvider TimeProvider);
