namespace JobDedup;

/// <summary>
/// Wraps functions with an automatic key built from the function itself and its arguments, like the
/// <c>@shared.group()</c> decorator of Python's shared-call. Arguments are compared with their own equality, so use
/// values (strings, numbers, records), not mutable objects.
/// </summary>
public static class SharedCallExtensions
{
    /// <summary>Returns a function that coalesces concurrent calls with equal arguments.</summary>
    /// <typeparam name="T1">The argument type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="call">The group the calls are coalesced in; keys include the function, so one group can wrap many.</param>
    /// <param name="function">The function to coalesce.</param>
    /// <returns>The coalesced function.</returns>
    public static Func<T1, CancellationToken, Task<TResult>> Wrap<T1, TResult>(
        this SharedCall<object, TResult> call,
        Func<T1, CancellationToken, Task<TResult>> function)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.Wrap(function, arg1 => (object)(function, arg1));
    }

    /// <summary>Returns a function that coalesces concurrent calls with equal arguments.</summary>
    /// <typeparam name="T1">The first argument type.</typeparam>
    /// <typeparam name="T2">The second argument type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="call">The group the calls are coalesced in; keys include the function, so one group can wrap many.</param>
    /// <param name="function">The function to coalesce.</param>
    /// <returns>The coalesced function.</returns>
    public static Func<T1, T2, CancellationToken, Task<TResult>> Wrap<T1, T2, TResult>(
        this SharedCall<object, TResult> call,
        Func<T1, T2, CancellationToken, Task<TResult>> function)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.Wrap(function, (arg1, arg2) => (object)(function, arg1, arg2));
    }

    /// <summary>Returns a function that coalesces concurrent calls with equal arguments.</summary>
    /// <typeparam name="T1">The first argument type.</typeparam>
    /// <typeparam name="T2">The second argument type.</typeparam>
    /// <typeparam name="T3">The third argument type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="call">The group the calls are coalesced in; keys include the function, so one group can wrap many.</param>
    /// <param name="function">The function to coalesce.</param>
    /// <returns>The coalesced function.</returns>
    public static Func<T1, T2, T3, CancellationToken, Task<TResult>> Wrap<T1, T2, T3, TResult>(
        this SharedCall<object, TResult> call,
        Func<T1, T2, T3, CancellationToken, Task<TResult>> function)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.Wrap(function, (arg1, arg2, arg3) => (object)(function, arg1, arg2, arg3));
    }

    /// <summary>Returns a function for threaded code that coalesces concurrent calls with equal arguments.</summary>
    /// <typeparam name="T1">The argument type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="call">The group the calls are coalesced in; keys include the function, so one group can wrap many.</param>
    /// <param name="function">The function to coalesce.</param>
    /// <returns>The coalesced function.</returns>
    public static Func<T1, TResult> Wrap<T1, TResult>(this SharedCall<object, TResult> call, Func<T1, TResult> function)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.Wrap(function, arg1 => (object)(function, arg1));
    }
}
