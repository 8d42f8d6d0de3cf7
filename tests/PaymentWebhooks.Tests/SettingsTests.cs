using JobDedup.RabbitMq;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Payments;
using PaymentWebhooks.Settings;

namespace PaymentWebhooks.Tests;

/// <summary>Settings are checked when the app is built, before anything connects; these tests need no broker.</summary>
public sealed class SettingsTests
{
    [Theory]
    [InlineData("SigningSecret", "", "PaymentWebhooks:SigningSecret")]
    [InlineData("SigningSecret", "too-short", "PaymentWebhooks:SigningSecret")]
    [InlineData("Port", "70000", "PaymentWebhooks:Port")]
    [InlineData("RabbitMqUri", "http://127.0.0.1:5672/", "PaymentWebhooks:RabbitMqUri")]
    [InlineData("DedupeWindow", "00:00:00", "PaymentWebhooks:DedupeWindow")]
    [InlineData("OutcomeQueue", "payment-webhooks", "PaymentWebhooks:OutcomeQueue")]
    [InlineData("SignatureTolerance", "1.00:00:00", "PaymentWebhooks:SignatureTolerance")]
    [InlineData("Sender", "a sender with spaces", "PaymentWebhooks:Sender")]
    [InlineData("Secret", "a-typo-for-SigningSecret", "Secret")]
    public void Build_WithAWrongSetting_FailsNamingIt(string setting, string value, string named)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(new() { [$"PaymentWebhooks:{setting}"] = value }));

        Assert.Contains(error.Failures, f => f.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Build_WithTheBrokerVariableSet_UsesItForConsumerAndPublisher()
    {
        const string FromEnvironment = "amqp://someone:secret@127.0.0.1:5999/payments";
        await using var app = Build(new() { ["JOBDEDUP_RABBITMQ_URI"] = FromEnvironment });

        Assert.Equal(FromEnvironment, app.Services.GetRequiredService<PaymentWebhooksOptions>().RabbitMqUri);
        Assert.Equal(FromEnvironment, app.Services.GetRequiredService<IOptionsMonitor<RabbitMqConsumerOptions<PaymentEvent, Charge>>>().Get(PaymentWebhooksApp.DeduplicatorName).ConnectionUri);
        Assert.Equal(FromEnvironment, app.Services.GetRequiredService<IOptions<RabbitMqPublisherOptions>>().Value.ConnectionUri);
    }

    [Fact]
    public async Task Build_WithAnotherAddressConfigured_StillListensOn127001Only()
    {
        await using var app = Build(new() { ["urls"] = "http://0.0.0.0:5081", ["PaymentWebhooks:Port"] = "5082" });

        Assert.Equal("http://127.0.0.1:5082", ((IConfiguration)app.Configuration)["urls"]);
    }

    private static WebApplication Build(Dictionary<string, string?> settings) =>
        PaymentWebhooksApp.Build([], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PaymentWebhooks:SigningSecret"] = "whsec_settings_test_0123456789",

            // Whatever the machine's environment says, these tests decide the broker address.
            ["JOBDEDUP_RABBITMQ_URI"] = string.Empty,
        }.Concat(settings).GroupBy(s => s.Key).Select(g => g.Last())));
}
