using System.Xml.Linq;

namespace JobDedup.Packaging.Tests;

/// <summary>The packed packages, as a user gets them: their metadata, and a new app built and run against them.</summary>
public sealed class PackageTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    [Fact]
    public void Pack_WritesEveryLibraryAndTheTool_EachWithItsSymbols()
    {
        foreach (var id in PackedFeed.Libraries.Append("JobDedup.Worker"))
        {
            Assert.True(File.Exists(feed.Package(id)), $"{id} was not packed:\n{feed.PackOutput}");
            Assert.True(File.Exists(Path.ChangeExtension(feed.Package(id), ".snupkg")), $"{id} has no symbols package");
        }

        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", feed.Version);
    }

    [Theory]
    [InlineData("JobDedup.Core")]
    [InlineData("JobDedup.RabbitMq")]
    [InlineData("JobDedup.PostgreSql")]
    [InlineData("JobDedup.Redis")]
    [InlineData("JobDedup.AspNetCore")]
    [InlineData("JobDedup.Worker")]
    public void EachPackage_CarriesItsMetadataLicenceReadmeAndSourceLinkedDocs(string id)
    {
        var nuspec = feed.Nuspec(id);
        var ns = nuspec.Name.Namespace;
        var metadata = nuspec.Element(ns + "metadata")!;
        string Field(string name) => metadata.Element(ns + name)?.Value ?? string.Empty;

        Assert.Equal(id, Field("id"));
        Assert.Equal(feed.Version, Field("version"));
        Assert.Equal("JobDedup contributors", Field("authors"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("README.md", Field("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")));
        Assert.Contains("deduplication", Field("tags"), StringComparison.Ordinal);
        var entries = feed.Entries(id);
        Assert.Contains("README.md", entries);
        Assert.Contains("LICENSE", entries);
        if (id == "JobDedup.Worker")
        {
            Assert.Contains(metadata.Element(ns + "packageTypes")!.Elements(), t => t.Attribute("name")?.Value == "DotnetTool");
            Assert.Contains(entries, e => e.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));
        }
        else
        {
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries);
        }
    }

    [Fact]
    public void TheTool_IsTheJobdedupCommand()
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(feed.Package("JobDedup.Worker"));
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal)).Open();
        var command = XDocument.Load(stream).Descendants("Command").Single();

        Assert.Equal("jobdedup", command.Attribute("Name")?.Value);
        Assert.Equal("JobDedup.Worker.dll", command.Attribute("EntryPoint")?.Value);
    }

    [Fact]
    public async Task ANewApp_ReferencingThePackagesFromTheFolderFeed_BuildsAndRunsADuplicateJobOnce()
    {
        var app = Path.Combine(feed.Root, "app");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), NewApp.NuGetConfig(feed.Feed, NewApp.MachinePackages));
        await File.WriteAllTextAsync(Path.Combine(app, "PackagedApp.csproj"), NewApp.Project(feed.Version));
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), NewApp.Program);

        var build = await feed.DotnetAsync(app, "build", "-c", "Release", "-nologo", "--disable-build-servers");
        Assert.True(build.ExitCode == 0, $"the app did not build against the packages:\n{build.Output}");
        var run = await feed.DotnetAsync(app, "run", "-c", "Release", "--no-build");

        Assert.True(run.ExitCode == 0, $"the app failed:\n{run.Output}");
        Assert.Contains("runs=1", run.Output, StringComparison.Ordinal);
        Assert.Contains("first=done order-1 second=done order-1", run.Output, StringComparison.Ordinal);
        Assert.Contains("registered: rabbitmq postgresql redis", run.Output, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(feed.Packages, "jobdedup.core", feed.Version.ToLowerInvariant())),
            "the app's restore did not use the feed's own packages folder");
    }
}
