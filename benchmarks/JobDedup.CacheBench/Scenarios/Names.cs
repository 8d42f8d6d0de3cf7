namespace JobDedup.CacheBench.Scenarios;

internal static class Names
{
    public static string NewNamespace() => "bench-" + Guid.NewGuid().ToString("N")[..10];
}
