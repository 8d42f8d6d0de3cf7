using System.Runtime.CompilerServices;

namespace JobDedup.Concurrency.Controlled;

/// <summary>
/// Stand-ins for <see cref="Lock"/>: Coyote 1.7.11 predates it and leaves it a real lock, so a controlled operation
/// that reaches a scheduling point while holding one blocks every other operation that wants it, outside the
/// engine's view. These take the monitor of the same object instead, which <c>coyote rewrite</c> makes controlled.
/// </summary>
public static class ControlledLocks
{
    /// <summary>Stands in for <c>Lock.EnterScope()</c>.</summary>
    public static Lock.Scope EnterScope(Lock gate)
    {
        Enter(gate);

        // A scope holds nothing but its lock, so the lock reference read as a scope disposes into Exit below.
        return Unsafe.As<Lock, Lock.Scope>(ref gate);
    }

    /// <summary>Stands in for <c>Lock.Scope.Dispose()</c>.</summary>
    public static void Dispose(ref Lock.Scope scope) => Exit(Unsafe.As<Lock.Scope, Lock>(ref scope));

    /// <summary>Stands in for <c>Lock.Enter()</c>.</summary>
    public static void Enter(Lock gate) => Monitor.Enter(AsObject(gate));

    /// <summary>Stands in for <c>Lock.TryEnter()</c>.</summary>
    public static bool TryEnter(Lock gate) => Monitor.TryEnter(AsObject(gate));

    /// <summary>Stands in for <c>Lock.Exit()</c>.</summary>
    public static void Exit(Lock gate) => Monitor.Exit(AsObject(gate));

    /// <summary>Stands in for <c>Lock.IsHeldByCurrentThread</c>.</summary>
    public static bool get_IsHeldByCurrentThread(Lock gate) => Monitor.IsEntered(AsObject(gate));

    // Monitor-based locking on the Lock object is the point here: Coyote controls monitors.
#pragma warning disable CS9216, CA1859
    private static object AsObject(Lock gate) => gate;
#pragma warning restore CS9216, CA1859
}
