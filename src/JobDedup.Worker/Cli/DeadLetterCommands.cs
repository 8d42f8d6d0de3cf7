using System.CommandLine;
using System.Globalization;

namespace JobDedup.Worker.Cli;

/// <summary>
/// <c>jobdedup dead-letters list|show|replay|purge --queue Q</c>: acts on the dead-letter queue (<c>Q.dead</c>) of the
/// work queue <c>Q</c>. Every command gives back what it read and did not remove, so reading loses nothing.
/// </summary>
internal sealed class DeadLetterCommands(TextReader input, TimeProvider timeProvider)
{
    /// <summary>The exit code of a command that did what was asked.</summary>
    public const int Done = 0;

    /// <summary>The exit code of a command that failed or was not confirmed; nothing was lost.</summary>
    public const int Failed = 1;

    /// <summary>The exit code of settings that cannot be read.</summary>
    public const int BadSettings = 2;

    private readonly Option<string> _queue = new("--queue", "-q")
    {
        Description = "The work queue whose dead letters to act on (its dead-letter queue is <queue>.dead).",
        Required = true,
        Recursive = true,
    };

    private readonly Option<string?> _broker = new("--broker")
    {
        Description = "The broker address, amqp://user:password@host:5672/ (default: JobDedup:RabbitMq:Uri from appsettings.json or JobDedup__RabbitMq__Uri).",
        Recursive = true,
    };

    private readonly Option<int> _limit = new("--limit")
    {
        Description = "How many messages from the head of the queue to read at most.",
        DefaultValueFactory = _ => 100,
        Recursive = true,
    };

    /// <summary>Builds the <c>dead-letters</c> command and its subcommands.</summary>
    public Command Build()
    {
        var command = new Command("dead-letters", $"List, show, replay or purge the dead letters of a queue (reasons: {DeadLetterText.Reasons}).")
        {
            _queue,
            _broker,
            _limit,
        };
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Replay());
        command.Subcommands.Add(Purge());
        return command;
    }

    private static Argument<string> MessageArgument(string what) => new("message")
    {
        Description = $"The message {what}: its position in 'list' (1 for the head) or its message id.",
    };

    private Command List()
    {
        var command = new Command("list", "List the dead letters: position, reason, attempts, age, key and message id.");
        command.SetAction((result, ct) => RunAsync(result, async (queue, output, token) =>
        {
            var total = await queue.CountAsync(token);
            var deadLetters = await queue.TakeAsync(Limit(result), token);
            await queue.ReturnAllAsync(token);
            await output.WriteAsync(DeadLetterText.List(queue.Name, Math.Max(total, (uint)deadLetters.Count), deadLetters, timeProvider.GetUtcNow()));
            return Done;
        }, ct));
        return command;
    }

    private Command Show()
    {
        var message = MessageArgument("to show");
        var command = new Command("show", "Show one dead letter: why it failed, its headers and the start of its body.") { message };
        command.SetAction((result, ct) => RunAsync(result, async (queue, output, token) =>
        {
            var selector = result.GetRequiredValue(message);
            var deadLetters = await queue.TakeAsync(Limit(result), token);
            await queue.ReturnAllAsync(token);
            var found = deadLetters.FirstOrDefault(d => d.IsNamedBy(selector))
                ?? throw NotFound(selector, queue.Name, deadLetters.Count);
            await output.WriteAsync(DeadLetterText.Show(found, timeProvider.GetUtcNow()));
            return Done;
        }, ct));
        return command;
    }

    private Command Replay()
    {
        var message = new Argument<string?>("message")
        {
            Description = "The message to replay: its position in 'list' (1 for the head) or its message id.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var all = new Option<bool>("--all") { Description = "Replay every dead letter read (see --limit), or every one with --reason." };
        var reason = new Option<string?>("--reason") { Description = $"With --all, only those dead-lettered for this reason ({DeadLetterText.Reasons})." };
        var command = new Command(
            "replay",
            "Publish dead letters back to the work queue with their key, with publisher confirms; each leaves the dead-letter queue only once the broker confirmed its copy. The dedupe window then decides whether it runs again.")
        {
            message,
            all,
            reason,
        };
        command.SetAction((result, ct) => RunAsync(result, async (queue, output, token) =>
        {
            var selector = result.GetValue(message);
            var everything = result.GetValue(all);
            if (selector is null == !everything)
            {
                throw new ToolException("Name one message to replay (its position or message id), or pass --all.");
            }

            var deadLetters = await queue.TakeAsync(Limit(result), token);
            var chosen = everything
                ? [.. deadLetters.Where(d => result.GetValue(reason) is not { } only || string.Equals(d.Reason, only, StringComparison.Ordinal))]
                : new List<DeadLetter> { deadLetters.FirstOrDefault(d => d.IsNamedBy(selector!)) ?? throw NotFound(selector!, queue.Name, deadLetters.Count) };
            foreach (var deadLetter in chosen)
            {
                await queue.ReplayAsync(deadLetter, token);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"replayed message {deadLetter.Index} (key {deadLetter.Key ?? "(none)"}) to '{queue.Name[..^".dead".Length]}'"));
            }

            await queue.ReturnAllAsync(token);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{chosen.Count} replayed; {deadLetters.Count - chosen.Count} left in '{queue.Name}'"));
            return Done;
        }, ct));
        return command;
    }

    private Command Purge()
    {
        var yes = new Option<bool>("--yes", "-y") { Description = "Purge without asking." };
        var command = new Command("purge", "Delete every dead letter of the queue, after a confirmation.") { yes };
        command.SetAction((result, ct) => RunAsync(result, async (queue, output, token) =>
        {
            var count = await queue.CountAsync(token);
            if (count == 0)
            {
                await output.WriteLineAsync($"'{queue.Name}' is empty; nothing to purge.");
                return Done;
            }

            if (!result.GetValue(yes))
            {
                await output.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"Delete {count} dead letter{(count == 1 ? string.Empty : "s")} from '{queue.Name}'? This cannot be undone. [y/N] "));
                var answer = (await input.ReadLineAsync(token))?.Trim();
                if (!string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
                {
                    await output.WriteLineAsync("Nothing purged.");
                    return Failed;
                }
            }

            var purged = await queue.PurgeAsync(token);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"purged {purged} dead letter{(purged == 1 ? string.Empty : "s")} from '{queue.Name}'"));
            return Done;
        }, ct));
        return command;
    }

    private static ToolException NotFound(string selector, string queue, int read) =>
        new($"No message '{selector}' among the first {read} of '{queue}' (a position from 'list', or a message id; --limit reads further).");

    private int Limit(ParseResult result)
    {
        var limit = result.GetValue(_limit);
        return limit > 0 ? limit : throw new ToolException($"--limit must be at least 1, not {limit}.");
    }

    private async Task<int> RunAsync(ParseResult result, Func<DeadLetterQueue, TextWriter, CancellationToken, Task<int>> command, CancellationToken cancellationToken)
    {
        var output = result.InvocationConfiguration.Output;
        var error = result.InvocationConfiguration.Error;
        ToolSettings settings;
        try
        {
            settings = ToolSettings.Read(result.GetRequiredValue(_queue), result.GetValue(_broker));
        }
        catch (InvalidOperationException ex)
        {
            await error.WriteLineAsync($"jobdedup: a setting could not be read. {ex.GetBaseException().Message}");
            return BadSettings;
        }

        try
        {
            await using var queue = await DeadLetterQueue.OpenAsync(settings, cancellationToken);
            return await command(queue, output, cancellationToken);
        }
        catch (ToolException ex)
        {
            await error.WriteLineAsync($"jobdedup: {ex.Message}");
            return Failed;
        }
    }
}
