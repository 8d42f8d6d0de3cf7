namespace JobDedup.Packaging.Tests;

/// <summary>The files of a small console app a user would write against the packages, with the using lines README gives.</summary>
internal static class NewApp
{
    /// <summary>
    /// The folder feed, the packages already on this machine (read as a local feed, so a restore needs no download),
    /// then the user's own sources (the registry).
    /// </summary>
    public static string NuGetConfig(string feed, string machinePackages) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="jobdedup-local" value="{feed}" />
            <add key="machine-packages" value="{machinePackages}" />
          </packageSources>
        </configuration>
        """;

    /// <summary>Gets the packages folder this machine's restores use.</summary>
    public static string MachinePackages => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
        ? folder
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public static string Project(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="JobDedup.Core" Version="{version}" />
            <PackageReference Include="JobDedup.RabbitMq" Version="{version}" />
            <PackageReference Include="JobDedup.PostgreSql" Version="{version}" />
            <PackageReference Include="JobDedup.Redis" Version="{version}" />
            <PackageReference Include="Microsoft.Extensions.DependencyInjection" Version="10.0.14" />
          </ItemGroup>
        </Project>
        """;

    /// <summary>Enqueues one key twice while its handler is held, and registers each transport and store.</summary>
    public const string Program = """
        using JobDedup;
        using JobDedup.RabbitMq;
        using Microsoft.Extensions.DependencyInjection;

        var runs = 0;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var services = new ServiceCollection();
        services.AddJobDedup<string, string>("orders", o =>
            {
                o.KeySelector = job => job;
                o.DedupeWindow = TimeSpan.FromMinutes(1);
            })
            .UseHandler(async (job, context, cancellationToken) =>
            {
                Interlocked.Increment(ref runs);
                started.TrySetResult();
                await release.Task.WaitAsync(cancellationToken);
                return $"done {job}";
            });

        // Registration only: nothing connects until a host starts these.
        var others = new ServiceCollection();
        others.AddJobDedup<RabbitMqMessage, byte[]>("queue", o => o.KeySelector = m => m.MessageId ?? string.Empty)
            .UseHandler((message, context, cancellationToken) => ValueTask.FromResult(message.Body.ToArray()))
            .AddRabbitMqConsumer(o =>
            {
                o.Queue = "orders";
                o.KeyRule = RabbitMqKeyRule.JsonProperty("id");
            });
        others.AddJobDedup<string, string>("durable", o => o.KeySelector = job => job)
            .UseHandler((job, context, cancellationToken) => ValueTask.FromResult(job))
            .UsePostgreSqlOutcomeStore("Host=127.0.0.1;Username=app;Database=app");
        others.AddJobDedupCache(o => o.Configuration = "127.0.0.1:6379");
        Console.WriteLine($"registered: rabbitmq postgresql redis ({others.Count} services)");

        await using var provider = services.BuildServiceProvider();
        var orders = provider.GetRequiredKeyedService<IJobDeduplicator<string, string>>("orders");
        var first = orders.EnqueueAsync("order-1").AsTask();
        await started.Task;
        var second = orders.EnqueueAsync("order-1").AsTask();
        release.TrySetResult();
        var outcomes = await Task.WhenAll(first, second);

        Console.WriteLine($"runs={runs}");
        Console.WriteLine($"first={outcomes[0].GetValueOrThrow()} second={outcomes[1].GetValueOrThrow()}");
        Console.WriteLine($"roles={outcomes[0].Role},{outcomes[1].Role}");
        return runs == 1 ? 0 : 1;
        """;
}
