using System.Globalization;
using JobDedup.WorkerDemo;

// The main demo: a burst of duplicate payment webhooks (as a provider redelivers them) through the JobDedup worker,
// first with deduplication on, then off, and a side-by-side report of what reached the payment service.
var workerDll = Argument("--worker") ?? throw new ArgumentException("Pass --worker <path to JobDedup.Worker.dll> (scripts/demo.sh does).");
var messages = int.Parse(Argument("--messages") ?? "1000", CultureInfo.InvariantCulture);
var events = int.Parse(Argument("--events") ?? "10", CultureInfo.InvariantCulture);
var broker = new Uri(Environment.GetEnvironmentVariable("JOBDEDUP_RABBITMQ_URI") is { Length: > 0 } uri ? uri : "amqp://guest:guest@127.0.0.1:5672/");

Console.WriteLine($"JobDedup demo: {messages} payment webhooks over {events} event ids through the worker, deduplication on and off.");
Console.WriteLine("The payment service behind the worker takes 20 ms per call and counts calls per event id.");
Console.WriteLine();
await using var sink = await Sink.StartAsync();
BurstResult on, off;
try
{
    on = await Burst.RunAsync(workerDll, broker, sink, deduplicate: true, messages, events);
    off = await Burst.RunAsync(workerDll, broker, sink, deduplicate: false, messages, events);
}
catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or RabbitMQ.Client.Exceptions.BrokerUnreachableException)
{
    await Console.Error.WriteLineAsync($"The demo stopped: {ex.Message}");
    return 1;
}

Console.WriteLine();
Report.Print(on, off);
return on.Acked == messages && off.Acked == messages && on.LeftInQueue == 0 && off.LeftInQueue == 0 ? 0 : 1;

string? Argument(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
