namespace JobDedup.LoadTest;

/// <summary>Counts answered requests while a run is going, for the progress lines.</summary>
internal sealed class ProgressCounter
{
    private int _completed;
    private int _failed;

    public int Completed => Volatile.Read(ref _completed);

    public int Failed => Volatile.Read(ref _failed);

    public void Done(bool succeeded)
    {
        Interlocked.Increment(ref _completed);
        if (!succeeded)
        {
            Interlocked.Increment(ref _failed);
        }
    }
}
