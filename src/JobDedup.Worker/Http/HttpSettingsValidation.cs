using System.Net;
using JobDedup.Worker.Settings;

namespace JobDedup.Worker.Http;

/// <summary>Checks the HTTP face's and the OTLP export's settings; each problem starts with the setting's path.</summary>
internal static class HttpSettingsValidation
{
    private static readonly TimeSpan ShortestHistory = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LongestHistory = TimeSpan.FromHours(24);

    public static void Validate(WorkerSettings settings, List<string> problems)
    {
        var http = settings.Http;
        var path = $"{WorkerSettings.Section}:Http";
        var localhost = string.Equals(http.Address, "localhost", StringComparison.OrdinalIgnoreCase);
        if (!localhost && !IPAddress.TryParse(http.Address, out _))
        {
            problems.Add($"{path}:Address must be an IP address (127.0.0.1, 0.0.0.0 for every interface) or localhost, not '{http.Address}'.");
        }

        if (http.Port is < 0 or > 65535)
        {
            problems.Add($"{path}:Port must be between 0 and 65535 (0 lets the system choose), not {http.Port}.");
        }
        else if (http.Port == 0 && localhost)
        {
            problems.Add($"{path}:Port 0 needs an IP address in {path}:Address (such as 127.0.0.1), not localhost.");
        }

        if (http.HottestKeys is < 1 or > 1000)
        {
            problems.Add($"{path}:HottestKeys must be between 1 and 1000, not {http.HottestKeys}.");
        }

        if (http.History < ShortestHistory || http.History > LongestHistory)
        {
            problems.Add($"{path}:History must be between {ShortestHistory} and {LongestHistory}, not {http.History}.");
        }

        var otlp = settings.Otlp;
        if (otlp.Endpoint is { } endpoint
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add($"{WorkerSettings.Section}:Otlp:Endpoint must be an absolute http:// or https:// address such as http://127.0.0.1:4317, not '{endpoint}'.");
        }

        if (otlp.ExportInterval < TimeSpan.FromSeconds(1))
        {
            problems.Add($"{WorkerSettings.Section}:Otlp:ExportInterval must be at least one second, not {otlp.ExportInterval}.");
        }
    }
}
