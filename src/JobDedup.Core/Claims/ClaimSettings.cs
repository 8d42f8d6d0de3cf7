namespace JobDedup.Claims;

/// <summary>The settings every claim of one deduplicator shares.</summary>
internal sealed record ClaimSettings(string Owner, TimeSpan Lease, BusyKeyMode WhenKeyBusy, TimeProvider TimeProvider);
