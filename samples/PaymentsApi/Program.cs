using PaymentsApi;

// The payments API sample: see README.md. Ctrl+C stops it.
WebApplication app;
try
{
    app = PaymentsApiApp.Build(args);
}
catch (InvalidOperationException ex)
{
    await Console.Error.WriteLineAsync($"The payments API sample cannot start: {ex.Message}");
    return 2;
}

await using (app)
{
    await app.RunAsync();
    return 0;
}
