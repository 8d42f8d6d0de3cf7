namespace JobDedup;

/// <summary>
/// Packs the outcomes a <see cref="MemoryOutcomeStore{TResult}"/> keeps, each into one array of bytes, and unpacks them
/// when they are asked for. An outcome kept as it is costs the garbage collector every object it holds (the result
/// and what it refers to, the fingerprint) for as long as it is kept; packed, it costs one array. With a large window
/// of small results that is most of what the window costs.
/// </summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
/// <remarks>
/// <see cref="TryPack"/> and <see cref="Recycle"/> must not throw, nor <see cref="Unpack"/> for an array
/// <see cref="TryPack"/> returned (the store gives it no other): the store cannot fail, so the deduplicator guards it with
/// no breaker, and a packer's exception would fail the job that reads or keeps the outcome. <see cref="Unpack"/> runs for
/// every lookup that finds an outcome, under the store's lock, so it should be cheap; an outcome it returns must be equal in meaning to the one packed (value, attempts, completion time,
/// fingerprint, failure), and must not refer to the packed array, which <see cref="Recycle"/> may give back for reuse.
/// </remarks>
public interface IOutcomePacker<TResult>
{
    /// <summary>Packs an outcome, or declines to (it is then kept as it is).</summary>
    /// <param name="outcome">The outcome being kept.</param>
    /// <param name="packed">The outcome packed, when this returns <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when the outcome was packed.</returns>
    bool TryPack(in StoredOutcome<TResult> outcome, out byte[] packed);

    /// <summary>Unpacks an outcome that <see cref="TryPack"/> packed.</summary>
    /// <param name="packed">The array <see cref="TryPack"/> returned.</param>
    /// <returns>The outcome.</returns>
    StoredOutcome<TResult> Unpack(byte[] packed);

    /// <summary>
    /// Takes back an array the store no longer holds (its outcome was evicted, expired, replaced or removed), so that
    /// the packer may reuse it for a later outcome: a full window then packs new outcomes into the arrays of those it
    /// lets go, and allocates nothing.
    /// </summary>
    /// <param name="packed">An array <see cref="TryPack"/> returned; the store never reads it again.</param>
    /// <remarks>Called once the store's lock is released, possibly from several threads at once.</remarks>
    void Recycle(byte[] packed);
}
