using System.Net;
using PaymentsApi.Payments;

namespace PaymentsApi.Tests.Support;

/// <summary>One POST /payments as the client saw it answered.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Payment">The payment in the body, on a 201.</param>
/// <param name="Location">The Location header, on a 201.</param>
/// <param name="Replayed">Whether the answer carried <c>Idempotent-Replayed: true</c>.</param>
/// <param name="Body">The body as text, for assertion messages.</param>
internal sealed record Answer(HttpStatusCode Status, Payment? Payment, Uri? Location, bool Replayed, string Body);
