namespace JobDedup.Core.Tests.Stress;

/// <summary>A failure a stress handler was told to throw, told apart from any failure of the engine.</summary>
internal sealed class PlannedFailure(string message) : Exception(message);
