namespace JobDedup.Faults.Tests.Traffic;

/// <summary>A message the worker dead-lettered: its correlation id, the reason header and the error it gives.</summary>
internal sealed record DeadLetter(string Id, string Reason, string Exception);
