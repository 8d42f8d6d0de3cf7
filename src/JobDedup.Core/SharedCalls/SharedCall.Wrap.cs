namespace JobDedup;

/// <content>Turns functions into their coalesced twins, keyed by a function of their arguments.</content>
public sealed partial class SharedCall<TKey, TResult>
{
    /// <summary>Returns a function that coalesces concurrent calls whose arguments give the same key.</summary>
    /// <typeparam name="T1">The argument type.</typeparam>
    /// <param name="function">The function to coalesce.</param>
    /// <param name="keySelector">Gives the key of a call from its argument.</param>
    /// <returns>The coalesced function.</returns>
    public Func<T1, CancellationToken, Task<TResult>> Wrap<T1>(
        Func<T1, CancellationToken, Task<TResult>> function,
        Func<T1, TKey> keySelector)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(keySelector);
        return (arg1, cancellationToken) => RunAsync(
            keySelector(arg1),
            (function, arg1),
            static (s, token) => s.function(s.arg1, token),
            cancellationToken);
    }

    /// <summary>Returns a function that coalesces concurrent calls whose arguments give the same key.</summary>
    /// <typeparam name="T1">The first argument type.</typeparam>
    /// <typeparam name="T2">The second argument type.</typeparam>
    /// <param name="function">The function to coalesce.</param>
    /// <param name="keySelector">Gives the key of a call from its arguments.</param>
    /// <returns>The coalesced function.</returns>
    public Func<T1, T2, CancellationToken, Task<TResult>> Wrap<T1, T2>(
        Func<T1, T2, CancellationToken, Task<TResult>> function,
        Func<T1, T2, TKey> keySelector)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(keySelector);
        return (arg1, arg2, cancellationToken) => RunAsync(
            keySelector(arg1, arg2),
            (function, arg1, arg2),
            static (s, token) => s.function(s.arg1, s.arg2, token),
            cancellationToken);
    }

    /// <summary>Returns a function that coalesces concurrent calls whose arguments give the same key.</summary>
    /// <typeparam name="T1">The first argument type.</typeparam>
    /// <typeparam name="T2">The second argument type.</typeparam>
    /// <typeparam name="T3">The third argument type.</typeparam>
    /// <param name="function">The function to coalesce.</param>
    /// <param name="keySelector">Gives the key of a call from its arguments.</param>
    /// <returns>The coalesced function.</returns>
    public Func<T1, T2, T3, CancellationToken, Task<TResult>> Wrap<T1, T2, T3>(
        Func<T1, T2, T3, CancellationToken, Task<TResult>> function,
        Func<T1, T2, T3, TKey> keySelector)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(keySelector);
        return (arg1, arg2, arg3, cancellationToken) => RunAsync(
            keySelector(arg1, arg2, arg3),
            (function, arg1, arg2, arg3),
            static (s, token) => s.function(s.arg1, s.arg2, s.arg3, token),
            cancellationToken);
    }

    /// <summary>Returns a function for threaded code that coalesces concurrent calls whose argument gives the same key.</summary>
    /// <typeparam name="T1">The argument type.</typeparam>
    /// <param name="function">The function to coalesce.</param>
    /// <param name="keySelector">Gives the key of a call from its argument.</param>
    /// <returns>The coalesced function; joiners block until the leader's call returns.</returns>
    public Func<T1, TResult> Wrap<T1>(Func<T1, TResult> function, Func<T1, TKey> keySelector)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(keySelector);
        return arg1 => Run(keySelector(arg1), () => function(arg1));
    }
}
