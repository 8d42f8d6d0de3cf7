using System.Net;

namespace PaymentWebhooks.Tests.Support;

/// <summary>One webhook request as the provider saw it answered.</summary>
/// <param name="EventId">The event id in the body (or the forged one).</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="Location">The receipt's address, on a 202.</param>
/// <param name="What">What the request was, for assertion messages.</param>
/// <param name="Replayed">Whether the answer carried <c>Idempotent-Replayed: true</c>: another copy's answer, not a run of its own.</param>
internal sealed record Sent(string EventId, HttpStatusCode Status, Uri? Location, string What, bool Replayed = false);
