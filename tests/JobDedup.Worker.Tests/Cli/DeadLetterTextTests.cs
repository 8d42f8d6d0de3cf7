using System.Text;
using JobDedup.RabbitMq;
using JobDedup.Worker.Cli;
using RabbitMQ.Client;

namespace JobDedup.Worker.Tests.Cli;

/// <summary>What the dead-letter commands print and publish, from messages built here (no broker).</summary>
public sealed class DeadLetterTextTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(45, "45s")]
    [InlineData(185, "3m 05s")]
    [InlineData(7800, "2h 10m")]
    [InlineData(356400, "4d 03h")]
    public void Age_IsShownInItsTwoLargestUnits(int seconds, string expected) =>
        Assert.Equal(expected, DeadLetterText.Age(Now.AddSeconds(-seconds), Now));

    [Fact]
    public void Age_OfAMessageWithNoTimestamp_IsUnknown() => Assert.Equal("?", DeadLetterText.Age(null, Now));

    [Fact]
    public void Preview_OfTextCutThroughACharacter_StaysText()
    {
        var body = Encoding.UTF8.GetBytes(new string('a', 511) + "é and more");

        Assert.Equal(new string('a', 511), DeadLetterText.Preview(body));
    }

    [Fact]
    public void Preview_OfBinary_IsHexadecimal() =>
        Assert.Equal("FF00FE", DeadLetterText.Preview([0xFF, 0x00, 0xFE]));

    [Fact]
    public void List_GivesEachMessageItsReasonAttemptsAgeAndKey()
    {
        var deadLetter = DeadLetterOf(new Dictionary<string, object?>
        {
            [JobDedupHeaders.Key] = "order-7",
            [JobDedupHeaders.Reason] = DeadLetterReasons.HandlerFailed,
            [JobDedupHeaders.Attempt] = 5L,
            [JobDedupHeaders.FirstSeen] = Now.AddSeconds(-185).ToUnixTimeMilliseconds(),
        });

        var lines = DeadLetterText.List("orders.dead", 3, [deadLetter], Now).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("3 dead letters in 'orders.dead', the first 1 shown (--limit)", lines[0]);
        Assert.Equal(["1", DeadLetterReasons.HandlerFailed, "5", "3m 05s", "order-7", "m-1"], System.Text.RegularExpressions.Regex.Split(lines[2].Trim(), @"\s{2,}"));
    }

    [Fact]
    public void ReplayCopy_KeepsTheMessageAndKey_AndDropsWhyItWasDeadLettered()
    {
        var deadLetter = DeadLetterOf(new Dictionary<string, object?>
        {
            ["x-event-type"] = "charge",
            [JobDedupHeaders.Reason] = DeadLetterReasons.PermanentFailure,
            [JobDedupHeaders.Attempt] = 5L,
            [JobDedupHeaders.SourceQueue] = "orders",
            [JobDedupHeaders.ExceptionType] = "System.Exception",
            [JobDedupHeaders.ExceptionMessage] = "boom",
            [ReplayCopy.ReplaysHeader] = 1L,
        }, RabbitMqKeyRule.JsonProperty("id"));

        var copy = ReplayCopy.For(deadLetter, Settings(partitions: 0));

        Assert.Equal(string.Empty, copy.Exchange);
        Assert.Equal("orders", copy.RoutingKey);
        Assert.Equal("m-1", copy.Properties.MessageId);
        Assert.True(copy.Properties.Persistent);
        var headers = copy.Properties.Headers!;
        Assert.Equal("order-from-body", headers[JobDedupHeaders.Key]);
        Assert.Equal("charge", headers["x-event-type"]);
        Assert.Equal(2L, headers[ReplayCopy.ReplaysHeader]);
        Assert.DoesNotContain(JobDedupHeaders.Reason, headers.Keys);
        Assert.DoesNotContain(JobDedupHeaders.Attempt, headers.Keys);
        Assert.DoesNotContain(JobDedupHeaders.SourceQueue, headers.Keys);
        Assert.DoesNotContain(JobDedupHeaders.ExceptionType, headers.Keys);
        Assert.DoesNotContain(JobDedupHeaders.ExceptionMessage, headers.Keys);
    }

    [Fact]
    public void ReplayCopy_OfAPartitionedQueue_GoesToItsConsistentHashExchange()
    {
        var copy = ReplayCopy.For(DeadLetterOf(new Dictionary<string, object?> { [JobDedupHeaders.Key] = "k" }), Settings(partitions: 4));

        Assert.Equal("orders.partitions", copy.Exchange);
        Assert.Equal(string.Empty, copy.RoutingKey);
        Assert.Equal("k", copy.Properties.Headers![JobDedupHeaders.Key]);
    }

    [Fact]
    public void IsNamedBy_APositionOrAMessageId()
    {
        var deadLetter = DeadLetterOf(new Dictionary<string, object?>());

        Assert.True(deadLetter.IsNamedBy("1"));
        Assert.True(deadLetter.IsNamedBy("m-1"));
        Assert.False(deadLetter.IsNamedBy("2"));
        Assert.False(deadLetter.IsNamedBy("m-2"));
    }

    private static ToolSettings Settings(int partitions) => new("amqp://127.0.0.1/", "orders", RabbitMqKeyRule.Default, partitions);

    private static DeadLetter DeadLetterOf(Dictionary<string, object?> headers, RabbitMqKeyRule? rule = null) => new(
        1,
        deliveryTag: 7,
        new BasicProperties { MessageId = "m-1", Headers = headers },
        Encoding.UTF8.GetBytes("{\"id\":\"order-from-body\"}"),
        rule ?? RabbitMqKeyRule.Default);
}
