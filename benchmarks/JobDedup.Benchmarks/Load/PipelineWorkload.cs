using System.Threading.Channels;
using JobDedup.Benchmarks.Suites;

namespace JobDedup.Benchmarks.Load;

/// <summary>
/// The same jobs pushed through three pipelines by the same concurrent producers: a raw bounded channel (producers
/// write, one reader takes), the same channel answering every job through a task, and <see cref="JobDeduplicator{TJob, TResult}"/>.
/// Keys are drawn at random (fixed seed) from <see cref="KeyCount"/> keys, so duplicates overlap as they would in a queue.
/// </summary>
public sealed class PipelineWorkload
{
    public const int KeyCount = 10_000;
    public const int QueueCapacity = 1024;
    public const int DefaultProducers = 16;
    public const int DefaultWindow = 64;

    private readonly JobItem[] _jobs;

    public PipelineWorkload(int jobs, int producers = DefaultProducers, int window = DefaultWindow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(producers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        Producers = producers;
        Window = window;
        var keys = Keys.Create(KeyCount, "order-");
        var random = new Random(20_240_601);
        _jobs = new JobItem[jobs];
        for (var i = 0; i < _jobs.Length; i++)
        {
            _jobs[i] = new JobItem(keys[random.Next(keys.Length)], i);
        }
    }

    public int Jobs => _jobs.Length;

    /// <summary>Gets the number of concurrent producers.</summary>
    public int Producers { get; }

    /// <summary>Gets how many outcomes one producer may wait on at once (pipelines that answer each job).</summary>
    public int Window { get; }

    public static JobDeduplicator<JobItem, int> CreateDeduplicator() => new(
        static (job, _, _) => new ValueTask<int>(job.Id),
        new JobDedupOptions<JobItem> { Name = "bench", QueueCapacity = QueueCapacity });

    /// <summary>Producers write every job into a bounded channel; one reader takes them and runs the trivial handler.</summary>
    /// <returns>The number of jobs the reader took.</returns>
    public async Task<long> RunRawChannelAsync()
    {
        var channel = Channel.CreateBounded<JobItem>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });

        var reader = Task.Run(async () =>
        {
            long taken = 0;
            long sum = 0;
            while (await channel.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var job))
                {
                    sum += job.Id;
                    taken++;
                }
            }

            return sum < 0 ? -1 : taken;
        });

        await RunProducersAsync(async producer =>
        {
            for (var i = producer; i < _jobs.Length; i += Producers)
            {
                await channel.Writer.WriteAsync(_jobs[i]).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        channel.Writer.Complete();
        return await reader.ConfigureAwait(false);
    }

    /// <summary>As <see cref="RunRawChannelAsync"/>, but every job carries a task the reader completes and its producer awaits.</summary>
    /// <returns>The number of jobs answered.</returns>
    public async Task<long> RunChannelWithReplyAsync()
    {
        var channel = Channel.CreateBounded<ReplyItem>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });

        var reader = Task.Run(async () =>
        {
            while (await channel.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var item))
                {
                    item.TrySetResult(item.Job.Id);
                }
            }
        });

        long answered = 0;
        await RunProducersAsync(async producer =>
        {
            var pending = new Task<int>[Window];
            var count = 0;
            for (var i = producer; i < _jobs.Length; i += Producers)
            {
                var item = new ReplyItem(_jobs[i]);
                await channel.Writer.WriteAsync(item).ConfigureAwait(false);
                pending[count++] = item.Task;
                if (count == pending.Length)
                {
                    Interlocked.Add(ref answered, await DrainAsync(pending, count).ConfigureAwait(false));
                    count = 0;
                }
            }

            Interlocked.Add(ref answered, await DrainAsync(pending, count).ConfigureAwait(false));
        }).ConfigureAwait(false);
        channel.Writer.Complete();
        await reader.ConfigureAwait(false);
        return answered;
    }

    /// <summary>Producers enqueue every job into the deduplicator and await each outcome.</summary>
    /// <returns>The number of outcomes that succeeded.</returns>
    public async Task<long> RunDeduplicatorAsync(JobDeduplicator<JobItem, int> deduplicator)
    {
        ArgumentNullException.ThrowIfNull(deduplicator);
        long succeeded = 0;
        await RunProducersAsync(async producer =>
        {
            var pending = new ValueTask<JobOutcome<int>>[Window];
            var count = 0;
            for (var i = producer; i < _jobs.Length; i += Producers)
            {
                var job = _jobs[i];
                pending[count++] = deduplicator.EnqueueAsync(job.Key, job);
                if (count == pending.Length)
                {
                    Interlocked.Add(ref succeeded, await DrainAsync(pending, count).ConfigureAwait(false));
                    count = 0;
                }
            }

            Interlocked.Add(ref succeeded, await DrainAsync(pending, count).ConfigureAwait(false));
        }).ConfigureAwait(false);
        return succeeded;
    }

    private static async Task<long> DrainAsync(Task<int>[] pending, int count)
    {
        long done = 0;
        for (var i = 0; i < count; i++)
        {
            await pending[i].ConfigureAwait(false);
            done++;
        }

        return done;
    }

    private static async Task<long> DrainAsync(ValueTask<JobOutcome<int>>[] pending, int count)
    {
        long succeeded = 0;
        for (var i = 0; i < count; i++)
        {
            var outcome = await pending[i].ConfigureAwait(false);
            if (outcome.IsSucceeded)
            {
                succeeded++;
            }

            pending[i] = default;
        }

        return succeeded;
    }

    private Task RunProducersAsync(Func<int, Task> produce)
    {
        var producers = new Task[Producers];
        for (var p = 0; p < producers.Length; p++)
        {
            var producer = p;
            producers[p] = Task.Run(() => produce(producer));
        }

        return Task.WhenAll(producers);
    }
}
