namespace JobDedup.Bench.Reporting.Machine;

/// <summary>The commit the measured code was built from, so that a page says which code its numbers belong to.</summary>
/// <param name="Commit">The full commit id, or "unknown" outside a git checkout.</param>
/// <param name="Subject">The commit's subject line.</param>
/// <param name="Branch">The branch checked out, or "HEAD" when detached.</param>
/// <param name="ChangedFiles">Tracked files that differed from the commit when the run started.</param>
public sealed record SourceRevision(string Commit, string Subject, string Branch, IReadOnlyList<string> ChangedFiles)
{
    /// <summary>Gets the abbreviated commit id.</summary>
    public string ShortCommit => Commit.Length > 12 ? Commit[..12] : Commit;

    /// <summary>Reads the revision of the git checkout around the working directory.</summary>
    public static async Task<SourceRevision> ReadAsync()
    {
        var commit = await CommandOutput.RunAsync("git", "rev-parse", "HEAD").ConfigureAwait(false);
        if (commit == "not available")
        {
            return new SourceRevision("unknown", string.Empty, "unknown", []);
        }

        var changed = await CommandOutput.RunAsync("git", "status", "--porcelain", "--untracked-files=no").ConfigureAwait(false);
        return new SourceRevision(
            commit,
            await CommandOutput.RunAsync("git", "log", "-1", "--format=%s").ConfigureAwait(false),
            await CommandOutput.RunAsync("git", "rev-parse", "--abbrev-ref", "HEAD").ConfigureAwait(false),
            [.. changed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l != "not available")]);
    }

    /// <summary>One line for a page: the commit, its branch and subject, and whether the tree had uncommitted changes.</summary>
    public string Describe() => ChangedFiles.Count == 0
        ? Format.Invariant($"`{ShortCommit}` on `{Branch}` (\"{Subject}\")")
        : Format.Invariant($"`{ShortCommit}` on `{Branch}` (\"{Subject}\") with uncommitted changes to {ChangedFiles.Count} tracked file(s)");
}
