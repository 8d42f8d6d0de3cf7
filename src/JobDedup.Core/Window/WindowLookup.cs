namespace JobDedup.Window;

/// <summary>What the dispatcher learned of the dedupe window before creating a flight.</summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
/// <param name="Checked">The window was read and held nothing for the key: the flight need not read it again.</param>
/// <param name="Pending">A read still in progress, for the flight to await.</param>
internal readonly record struct WindowLookup<TResult>(bool Checked, Task<StoredOutcome<TResult>?>? Pending)
{
    public static WindowLookup<TResult> None => default;
}
