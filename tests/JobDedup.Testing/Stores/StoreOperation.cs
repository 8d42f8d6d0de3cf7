namespace JobDedup.Testing;

/// <summary>The operations of an outcome store that <see cref="ScriptableOutcomeStore{TResult}"/> can script.</summary>
public enum StoreOperation
{
    TryGet,
    Save,
    Remove,
    Clear,
    TryClaim,
    Renew,
    Complete,
    Release,
    WaitForOutcome,
}
