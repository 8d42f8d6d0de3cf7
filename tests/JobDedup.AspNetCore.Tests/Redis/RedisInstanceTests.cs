using JobDedup.AspNetCore.Tests.Support;

namespace JobDedup.AspNetCore.Tests.Redis;

/// <summary>Two instances of one application sharing one Redis.</summary>
public sealed class RedisInstanceTests
{
    [Fact]
    public async Task Post_RepeatSentToAnotherInstance_IsReplayedFromRedisWithoutASecondRun()
    {
        var redis = new RedisPrefix();
        await using var one = await redis.StartAsync();
        await using var two = await redis.StartAsync();

        var first = await one.PostAsync("order-1");
        var repeat = await two.PostAsync("order-1");

        Assert.Equal(201, first.Status);
        repeat.AssertReplayOf(first);
        Assert.Equal(1, one.Runs);
        Assert.Equal(0, two.Runs);
    }
}
