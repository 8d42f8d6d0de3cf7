namespace PaymentsApi.Payments;

/// <summary>The API's endpoints.</summary>
internal static class PaymentEndpoints
{
    /// <summary>Where payments are made and read.</summary>
    public const string PaymentsPath = "/payments";

    /// <summary>
    /// Maps <c>POST /payments</c> (idempotent: the <c>Idempotency-Key</c> header is required, scoped by client) and
    /// <c>GET /payments/{id}</c>, both for a named client only.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static WebApplication MapPayments(this WebApplication app)
    {
        app.Use(Clients.RequireAsync);
        app.MapPost(PaymentsPath, CreateAsync)
            .WithIdempotency(o =>
            {
                // A charge without a key could not be retried safely, so the API refuses it.
                o.RequireKey = true;
                o.Scope = context => Clients.Of(context)!;
            });
        app.MapGet($"{PaymentsPath}/{{id}}", (string id, HttpContext context, IPaymentGateway gateway) =>
            gateway.Find(id) is { } payment && payment.Client == Clients.Of(context) ? Results.Ok(payment) : Results.NotFound());
        return app;
    }

    private static async Task<IResult> CreateAsync(PaymentRequest request, HttpContext context, IPaymentGateway gateway)
    {
        var problems = request.Problems();
        if (problems.Count > 0)
        {
            return Results.ValidationProblem(problems, title: "The payment cannot be made as asked.");
        }

        var payment = await gateway.ChargeAsync(Clients.Of(context)!, request, context.RequestAborted);
        return Results.Created($"{PaymentsPath}/{payment.Id}", payment);
    }
}
