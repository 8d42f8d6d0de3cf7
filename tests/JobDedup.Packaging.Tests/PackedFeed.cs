using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Xml.Linq;

namespace JobDedup.Packaging.Tests;

/// <summary>
/// The packages as scripts/pack.sh writes them, packed once into a temporary folder feed from this configuration's
/// build, and the tools to run dotnet against that feed with a packages folder of its own.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    public static readonly string[] Libraries = ["JobDedup.Core", "JobDedup.RabbitMq", "JobDedup.PostgreSql", "JobDedup.Redis", "JobDedup.AspNetCore"];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"jobdedup-packaging-{Guid.NewGuid():N}");

    public string Feed => Path.Combine(Root, "feed");

    /// <summary>Gets the packages folder restores use here, so that no test version reaches the user's own.</summary>
    public string Packages => Path.Combine(Root, "packages");

    public string Version { get; private set; } = string.Empty;

    public string PackOutput { get; private set; } = string.Empty;

    public static string Repository
    {
        get
        {
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return testOutput.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        }
    }

    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        var pack = await RunAsync("bash", [Path.Combine(Repository, "scripts", "pack.sh"), Feed, "--no-build"], Repository,
            new Dictionary<string, string> { ["CONFIGURATION"] = Configuration });
        PackOutput = pack.Output;
        Assert.True(pack.ExitCode == 0, $"scripts/pack.sh failed:\n{pack.Output}");
        var core = Directory.GetFiles(Feed, "JobDedup.Core.*.nupkg").Single(f => !f.EndsWith(".snupkg", StringComparison.Ordinal));
        Version = Path.GetFileNameWithoutExtension(core)["JobDedup.Core.".Length..];
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    public string Package(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    /// <summary>Reads the .nuspec inside a package.</summary>
    public XElement Nuspec(string id)
    {
        using var zip = ZipFile.OpenRead(Package(id));
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream).Root!;
    }

    public IReadOnlyList<string> Entries(string id)
    {
        using var zip = ZipFile.OpenRead(Package(id));
        return [.. zip.Entries.Select(e => e.FullName)];
    }

    /// <summary>Runs dotnet with NuGet pointed at this feed's own packages folder.</summary>
    public Task<(int ExitCode, string Output)> DotnetAsync(string directory, params string[] args) =>
        RunAsync("dotnet", args, directory, new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Packages,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["MSBUILDDISABLENODEREUSE"] = "1",
        });

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, string directory, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }
}
