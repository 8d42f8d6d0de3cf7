namespace JobDedup.Demo.Simulation;

/// <summary>
/// A stand-in database with a connection pool. A query holds a connection for its base time, then slows down by a
/// fixed cost for every other query in the database at that moment (running or waiting for a connection), which is how
/// a real database behaves when a crowd asks it the same thing at once.
/// </summary>
internal sealed class SimulatedDatabase : IDisposable
{
    private readonly SemaphoreSlim _connections;
    private readonly TimeSpan _baseTime;
    private readonly TimeSpan _costPerOtherQuery;
    private int _queries;
    private int _inDatabase;
    private int _peakInDatabase;

    public SimulatedDatabase(int connections, TimeSpan baseTime, TimeSpan costPerOtherQuery)
    {
        _connections = new SemaphoreSlim(connections, connections);
        _baseTime = baseTime;
        _costPerOtherQuery = costPerOtherQuery;
    }

    /// <summary>Gets how many queries were sent to the database.</summary>
    public int Queries => Volatile.Read(ref _queries);

    /// <summary>Gets the largest number of queries that were in the database at one moment.</summary>
    public int PeakConcurrentQueries => Volatile.Read(ref _peakInDatabase);

    public async Task<string> QueryAsync(string what, CancellationToken cancellationToken = default)
    {
        var number = Interlocked.Increment(ref _queries);
        RaisePeak(Interlocked.Increment(ref _inDatabase));
        try
        {
            await _connections.WaitAsync(cancellationToken);
            try
            {
                await Task.Delay(_baseTime, cancellationToken);
                var others = Volatile.Read(ref _inDatabase) - 1;
                if (others > 0 && _costPerOtherQuery > TimeSpan.Zero)
                {
                    await Task.Delay(_costPerOtherQuery * others, cancellationToken);
                }

                return $"{what} (query #{number})";
            }
            finally
            {
                _connections.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inDatabase);
        }
    }

    public void Dispose() => _connections.Dispose();

    private void RaisePeak(int inDatabase)
    {
        var peak = Volatile.Read(ref _peakInDatabase);
        while (inDatabase > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakInDatabase, inDatabase, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }
}
