namespace JobDedup.Redis.Store;

/// <summary>
/// The Lua scripts of the outcome store. Each runs atomically and reads the server's clock (<c>TIME</c>), so instances
/// whose clocks disagree still agree on leases and expiry. KEYS[1] is always the scope's meta hash (fields <c>gen</c>:
/// the scope's generation, bumped by a clear; <c>fence</c>: the fencing counter, which only grows); a record's key is
/// built in the script from the record prefix, the generation and the key part, so a single Redis (or a primary with
/// replicas) is required, not Redis Cluster. A record is a hash: <c>st</c> (<c>c</c> claimed, <c>d</c> done),
/// <c>tok</c>, <c>own</c>, <c>lease</c> and <c>exp</c> (Unix ms), <c>val</c>, <c>att</c>, <c>at</c> (UTC ticks), and
/// for a claim <c>hb</c>: the Redis key of its store instance's heartbeat. A claim is held while its lease runs and its
/// heartbeat key exists (or it has none); a claim replaced while still claimed is a takeover of a dead owner. A claim
/// or an outcome may hold <c>fp</c>, its job's payload fingerprint; a kept failure holds <c>ft</c> and <c>fm</c>, its
/// exception's type and message, and an empty <c>val</c>. A field that is missing (as in records written before them)
/// reads as none. Optional text reaches a script as <c>''</c> for none and as <c>'='</c> followed by the text
/// otherwise, so that an empty text stays apart from none.
/// </summary>
internal static class StoreScripts
{
    private const string Prelude = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local gen = redis.call('HGET', KEYS[1], 'gen') or '0'
        local function alive(hb)
          return (not hb) or hb == '' or redis.call('EXISTS', hb) == 1
        end
        local function beat(hb, ms)
          if hb ~= '' and tonumber(ms) > 0 then
            redis.call('SET', hb, '1', 'PX', ms)
          end
        end
        local function put(rec, field, text)
          if text ~= '' then
            redis.call('HSET', rec, field, string.sub(text, 2))
          end
        end

        """;

    /// <summary>
    /// ARGV: record prefix, key part, owner, lease ms, keep ms, heartbeat key ('' for none), heartbeat ms, fingerprint
    /// (optional text). Returns {'claimed', token, takes over (0|1), previous owner} | {'busy', lease, fp} |
    /// {'done', val, att, at, fp, ft, fm}.
    /// </summary>
    public const string Claim = Prelude + """
        local rec = ARGV[1] .. gen .. ':' .. ARGV[2]
        local st = redis.call('HMGET', rec, 'st', 'lease', 'exp', 'val', 'att', 'at', 'hb', 'own', 'fp', 'ft', 'fm')
        if st[1] == 'c' and tonumber(st[2]) > now and alive(st[7]) then
          return {'busy', st[2], st[9]}
        end
        if st[1] == 'd' and tonumber(st[3]) > now then
          return {'done', st[4], st[5], st[6], st[9], st[10], st[11]}
        end
        local lease = tonumber(ARGV[4])
        local tok = redis.call('HINCRBY', KEYS[1], 'fence', 1)
        redis.call('DEL', rec)
        beat(ARGV[6], ARGV[7])
        redis.call('HSET', rec, 'st', 'c', 'tok', tok, 'own', ARGV[3], 'hb', ARGV[6], 'lease', now + lease, 'exp', now + lease + tonumber(ARGV[5]))
        put(rec, 'fp', ARGV[8])
        redis.call('PEXPIRE', rec, lease + tonumber(ARGV[5]))
        if st[1] == 'c' then
          return {'claimed', tok, 1, st[8] or ''}
        end
        return {'claimed', tok, 0, ''}
        """;

    /// <summary>ARGV: record prefix, key part, token, lease ms, keep ms, heartbeat key ('' for none), heartbeat ms. Returns 1 when renewed.</summary>
    public const string Renew = Prelude + """
        local rec = ARGV[1] .. gen .. ':' .. ARGV[2]
        local st = redis.call('HMGET', rec, 'st', 'tok')
        if st[1] ~= 'c' or st[2] ~= ARGV[3] then
          return 0
        end
        local lease = tonumber(ARGV[4])
        beat(ARGV[6], ARGV[7])
        redis.call('HSET', rec, 'lease', now + lease, 'exp', now + lease + tonumber(ARGV[5]), 'hb', ARGV[6])
        redis.call('PEXPIRE', rec, lease + tonumber(ARGV[5]))
        return 1
        """;

    /// <summary>
    /// ARGV: record prefix, key part, token, val, att, at, retention ms, channel, message, fingerprint, failure type,
    /// failure message (each optional text). Returns 1 when kept.
    /// </summary>
    public const string Complete = Prelude + """
        local rec = ARGV[1] .. gen .. ':' .. ARGV[2]
        local st = redis.call('HMGET', rec, 'st', 'tok')
        if st[1] ~= 'c' or st[2] ~= ARGV[3] then
          return 0
        end
        local keep = tonumber(ARGV[7])
        redis.call('HDEL', rec, 'lease', 'own', 'hb', 'fp', 'ft', 'fm')
        redis.call('HSET', rec, 'st', 'd', 'val', ARGV[4], 'att', ARGV[5], 'at', ARGV[6], 'exp', now + keep)
        put(rec, 'fp', ARGV[10])
        put(rec, 'ft', ARGV[11])
        put(rec, 'fm', ARGV[12])
        redis.call('PEXPIRE', rec, keep)
        redis.call('PUBLISH', ARGV[8], ARGV[9])
        return 1
        """;

    /// <summary>ARGV: record prefix, key part, token, channel, message. Returns 1 when the claim was this token's and is gone.</summary>
    public const string Release = Prelude + """
        local rec = ARGV[1] .. gen .. ':' .. ARGV[2]
        local st = redis.call('HMGET', rec, 'st', 'tok')
        if st[1] ~= 'c' or st[2] ~= ARGV[3] then
          return 0
        end
        redis.call('DEL', rec)
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        return 1
        """;

    /// <summary>ARGV: record prefix, key part. Returns {'done', val, att, at, fp, ft, fm} | {'busy', lease, left ms, fp} | {'free'}.</summary>
    public const string Inspect = Prelude + """
        local rec = ARGV[1] .. gen .. ':' .. ARGV[2]
        local st = redis.call('HMGET', rec, 'st', 'lease', 'exp', 'val', 'att', 'at', 'hb', 'fp', 'ft', 'fm')
        if st[1] == 'd' and tonumber(st[3]) > now then
          return {'done', st[4], st[5], st[6], st[8], st[9], st[10]}
        end
        if st[1] == 'c' and tonumber(st[2]) > now and alive(st[7]) then
          return {'busy', st[2], tonumber(st[2]) - now, st[8]}
        end
        return {'free'}
        """;

    /// <summary>
    /// ARGV: record prefix, key part, val, att, at, retention ms, channel, message, fingerprint, failure type, failure
    /// message (each optional text). Replaces whatever holds the key, with a new token.
    /// </summary>
    public const string Save = Prelude + """
        local rec = ARGV[1] .. gen .. ':' .. ARGV[2]
        local keep = tonumber(ARGV[6])
        local tok = redis.call('HINCRBY', KEYS[1], 'fence', 1)
        redis.call('DEL', rec)
        redis.call('HSET', rec, 'st', 'd', 'tok', tok, 'val', ARGV[3], 'att', ARGV[4], 'at', ARGV[5], 'exp', now + keep)
        put(rec, 'fp', ARGV[9])
        put(rec, 'ft', ARGV[10])
        put(rec, 'fm', ARGV[11])
        redis.call('PEXPIRE', rec, keep)
        redis.call('PUBLISH', ARGV[7], ARGV[8])
        return 1
        """;

    /// <summary>ARGV: record prefix, key part, channel, message.</summary>
    public const string Remove = Prelude + """
        local rec = ARGV[1] .. gen .. ':' .. ARGV[2]
        redis.call('DEL', rec)
        redis.call('PUBLISH', ARGV[3], ARGV[4])
        return 1
        """;

    /// <summary>
    /// ARGV: channel, message. Moves the scope to a new generation: every earlier record becomes unreachable at once
    /// (and goes with its own expiry); the fencing counter stays, so no token is ever handed out twice.
    /// </summary>
    public const string Clear = """
        redis.call('HINCRBY', KEYS[1], 'gen', 1)
        redis.call('PUBLISH', ARGV[1], ARGV[2])
        return 1
        """;

    /// <summary>ARGV: record prefix, key part. Returns the record's Redis key (for tests).</summary>
    public const string RecordKey = Prelude + """
        return ARGV[1] .. gen .. ':' .. ARGV[2]
        """;
}
