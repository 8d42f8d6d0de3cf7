using System.Collections.ObjectModel;
using System.Text;
using JobDedup.AspNetCore.Responses;

namespace JobDedup.AspNetCore.Tests.Execution;

/// <summary>
/// How the in-memory window keeps an answer: packed into one array, and unpacked to the same status, headers, body,
/// attempts, completion time and fingerprint.
/// </summary>
public sealed class ResponsePackerTests
{
    private static readonly DateTimeOffset Completed = new(2026, 12, 2, 9, 30, 15, 123, TimeSpan.FromHours(-5));

    [Fact]
    public void TryPack_ThenUnpack_GivesBackEveryPartOfTheOutcome()
    {
        var packer = new ResponsePacker();
        var headers = new ReadOnlyDictionary<string, string[]>(new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
        {
            ["Location"] = ["/payments/pay_1"],
            ["Content-Type"] = ["application/json; charset=utf-8"],
            ["Vary"] = ["Accept", "Accept-Encoding"],
            ["X-Ünïcode"] = ["grüße, 支付"],
        });
        var body = Encoding.UTF8.GetBytes("""{"id":"pay_1","amount":4999,"note":"€"}""");
        var outcome = new StoredOutcome<IdempotentResponse>(new IdempotentResponse(201, headers, body) { Keep = true }, 1, Completed)
        {
            Fingerprint = "v1 POST %2Fpayments j:00112233445566778899aabbccddeeff amount=0123456789ab",
        };

        Assert.True(packer.TryPack(outcome, out var packed));
        var back = packer.Unpack(packed);

        Assert.Equal(201, back.Value.StatusCode);
        Assert.Equal(body, back.Value.Body);
        Assert.NotSame(body, back.Value.Body);
        Assert.True(back.Value.Keep);
        Assert.Equal(headers.Count, back.Value.Headers.Count);
        foreach (var (name, values) in headers)
        {
            Assert.Equal(values, back.Value.Headers[name]);
        }

        Assert.Equal(["/payments/pay_1"], back.Value.Headers["location"]);
        Assert.Equal(1, back.Attempts);
        Assert.Equal(Completed, back.CompletedAt);
        Assert.Equal(Completed.Offset, back.CompletedAt.Offset);
        Assert.Equal(outcome.Fingerprint, back.Fingerprint);
        Assert.Null(back.Failure);
    }

    [Fact]
    public void TryPack_NoFingerprintNoHeadersNoBody_RoundTrips()
    {
        var packer = new ResponsePacker();
        var empty = new ReadOnlyDictionary<string, string[]>(new Dictionary<string, string[]>());
        var outcome = new StoredOutcome<IdempotentResponse>(new IdempotentResponse(204, empty, []), 3, DateTimeOffset.UnixEpoch);

        Assert.True(packer.TryPack(outcome, out var packed));
        var back = packer.Unpack(packed);

        Assert.Equal((204, 3, DateTimeOffset.UnixEpoch), (back.Value.StatusCode, back.Attempts, back.CompletedAt));
        Assert.Empty(back.Value.Headers);
        Assert.Empty(back.Value.Body);
        Assert.Null(back.Fingerprint);
    }

    [Fact]
    public void TryPack_AFailureOrABodyOverTheLimit_IsDeclined()
    {
        var packer = new ResponsePacker();
        var headers = new ReadOnlyDictionary<string, string[]>(new Dictionary<string, string[]>());
        var failure = new StoredOutcome<IdempotentResponse>(null!, 1, Completed) { Failure = new StoredFailure("Declined", "card declined") };
        var large = new StoredOutcome<IdempotentResponse>(new IdempotentResponse(200, headers, new byte[ResponsePacker.MaxPackedBodyBytes + 1]), 1, Completed);
        var atLimit = new StoredOutcome<IdempotentResponse>(new IdempotentResponse(200, headers, new byte[ResponsePacker.MaxPackedBodyBytes]), 1, Completed);

        Assert.False(packer.TryPack(failure, out _));
        Assert.False(packer.TryPack(large, out _));
        Assert.True(packer.TryPack(atLimit, out var packed));
        Assert.Equal(ResponsePacker.MaxPackedBodyBytes, packer.Unpack(packed).Value.Body.Length);
    }

    [Fact]
    public void Unpack_AnswersWithTheSameHeaders_ShareOneCollection()
    {
        // Thousands of replays of one endpoint's answers must not each build the same header collection.
        var packer = new ResponsePacker();
        var json = Headers(("Content-Type", "application/json; charset=utf-8"));
        Assert.True(packer.TryPack(Outcome(json, "a"), out var first));
        Assert.True(packer.TryPack(Outcome(json, "b"), out var second));
        Assert.True(packer.TryPack(Outcome(Headers(("Location", "/payments/2")), "c"), out var other));

        var one = packer.Unpack(first).Value.Headers;
        var two = packer.Unpack(second).Value.Headers;
        var three = packer.Unpack(other).Value.Headers;

        Assert.Same(one, two);
        Assert.NotSame(one, three);
        Assert.Equal(["/payments/2"], three["Location"]);
        Assert.Equal(["application/json; charset=utf-8"], one["Content-Type"]);
    }

    [Fact]
    public void Recycle_TheArrayPacksTheNextAnswerOfItsSizeAndOnlyThatAnswerIsReadBack()
    {
        var packer = new ResponsePacker();
        var headers = Headers(("Content-Type", "application/json"));
        Assert.True(packer.TryPack(Outcome(headers, "first-longer"), out var first));

        packer.Recycle(first);
        Assert.True(packer.TryPack(Outcome(headers, "second"), out var second));
        Assert.True(packer.TryPack(Outcome(headers, "third-and-longer"), out var third));

        // The second answer is shorter but of the same size class: it got the array back, and what followed its body
        // there (the end of the first answer) is not read.
        Assert.Same(first, second);
        Assert.NotSame(second, third);
        var back = packer.Unpack(second);
        Assert.Equal("""{"id":"second"}""", Encoding.UTF8.GetString(back.Value.Body));
        Assert.Equal("v1 POST %2Fpay j:second", back.Fingerprint);
        Assert.Equal("""{"id":"third-and-longer"}""", Encoding.UTF8.GetString(packer.Unpack(third).Value.Body));
    }

    [Fact]
    public void Recycle_ArraysOfSizesNoLongerAskedForGiveWayToTheOneGivenBack()
    {
        // Over a megabyte of large answers of ten sizes, given back: the pool is full of sizes the window may no longer
        // keep; those make room for the size it keeps now, or that size would never be reused.
        var packer = new ResponsePacker();
        var headers = Headers(("Content-Type", "application/json"));
        var large = new List<byte[]>();
        for (var size = 0; size < 10; size++)
        {
            for (var i = 0; i < 8; i++)
            {
                var outcome = new StoredOutcome<IdempotentResponse>(new IdempotentResponse(200, headers, new byte[16_000 - (64 * size)]), 1, Completed);
                Assert.True(packer.TryPack(outcome, out var packed));
                large.Add(packed);
            }
        }

        large.ForEach(packer.Recycle);

        // The pool holds close to its megabyte of those (less than one of them is left free): an answer of another,
        // larger size fits only if arrays of the old sizes give way.
        var other = new StoredOutcome<IdempotentResponse>(new IdempotentResponse(200, headers, new byte[16_300]), 1, Completed);
        Assert.True(packer.TryPack(other, out var first));
        packer.Recycle(first);
        Assert.True(packer.TryPack(other, out var again));

        Assert.Same(first, again);
        Assert.Equal(16_300, packer.Unpack(again).Value.Body.Length);
    }

    [Fact]
    public void Unpack_AnArrayItDidNotPack_IsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ResponsePacker().Unpack([9, 9, 9]));
        Assert.Equal("packed", ex.ParamName);
    }

    [Fact]
    public async Task InTheMemoryStore_AFullWindowReusesTheArraysOfTheAnswersItLetsGo()
    {
        var packer = new ArrayCountingPacker(new ResponsePacker());
        var store = new MemoryOutcomeStore<IdempotentResponse>(1_000, timeProvider: null, packer);
        var headers = Headers(("Content-Type", "application/json"));

        // 3,000 answers through a window of 1,000: the last 1,000 are kept, each read back as it was packed, though
        // most were packed into arrays of answers evicted before them.
        for (var i = 0; i < 3_000; i++)
        {
            await store.SaveAsync("idempotency", $"k:{i}", Outcome(headers, $"{i % 7}-{i}"), TimeSpan.FromMinutes(1), default);
        }

        Assert.Equal(1_000, store.Count);
        Assert.Null(await store.TryGetAsync("idempotency", "k:1999", default));
        for (var i = 2_000; i < 3_000; i += 37)
        {
            var found = await store.TryGetAsync("idempotency", $"k:{i}", default);
            Assert.NotNull(found);
            Assert.Equal($$"""{"id":"{{i % 7}}-{{i}}"}""", Encoding.UTF8.GetString(found.Value.Value.Body));
            Assert.Equal($"v1 POST %2Fpay j:{i % 7}-{i}", found.Value.Fingerprint);
        }

        // 3,000 answers packed into the arrays of the first 1,000 and a few more: the rest went back and were reused.
        Assert.Equal(3_000, packer.Packs);
        Assert.InRange(packer.DistinctArrays, 1_000, 1_050);
    }

    [Fact]
    public void TryPack_AnEmptyFingerprintAndANullHeaderValue_StayWhatTheyWere()
    {
        var packer = new ResponsePacker();
        var headers = new ReadOnlyDictionary<string, string[]>(new Dictionary<string, string[]> { ["X-Odd"] = [null!, ""] });
        var empty = new StoredOutcome<IdempotentResponse>(new IdempotentResponse(200, headers, [1]), 1, Completed) { Fingerprint = string.Empty };
        var none = empty with { Fingerprint = null };

        Assert.True(packer.TryPack(empty, out var packedEmpty));
        Assert.True(packer.TryPack(none, out var packedNone));
        var backEmpty = packer.Unpack(packedEmpty);

        Assert.Equal(string.Empty, backEmpty.Fingerprint);
        Assert.Null(packer.Unpack(packedNone).Fingerprint);
        Assert.Equal([null!, ""], backEmpty.Value.Headers["X-Odd"]);
    }

    private static ReadOnlyDictionary<string, string[]> Headers(params (string Name, string Value)[] headers) =>
        new(headers.ToDictionary(h => h.Name, h => new[] { h.Value }, StringComparer.OrdinalIgnoreCase));

    private static StoredOutcome<IdempotentResponse> Outcome(IReadOnlyDictionary<string, string[]> headers, string id) =>
        new(new IdempotentResponse(200, headers, Encoding.UTF8.GetBytes($$"""{"id":"{{id}}"}""")) { Keep = true }, 1, Completed)
        {
            Fingerprint = $"v1 POST %2Fpay j:{id}",
        };

    /// <summary>The response packer, counting its packs and the distinct arrays it packed into.</summary>
    private sealed class ArrayCountingPacker(ResponsePacker inner) : IOutcomePacker<IdempotentResponse>
    {
        private readonly HashSet<byte[]> _arrays = new(ReferenceEqualityComparer.Instance);

        public int Packs { get; private set; }

        public int DistinctArrays => _arrays.Count;

        public bool TryPack(in StoredOutcome<IdempotentResponse> outcome, out byte[] packed)
        {
            if (!inner.TryPack(outcome, out packed))
            {
                return false;
            }

            Packs++;
            _arrays.Add(packed);
            return true;
        }

        public StoredOutcome<IdempotentResponse> Unpack(byte[] packed) => inner.Unpack(packed);

        public void Recycle(byte[] packed) => inner.Recycle(packed);
    }
}
