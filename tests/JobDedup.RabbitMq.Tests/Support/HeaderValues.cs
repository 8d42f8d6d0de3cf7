using System.Text;

namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>Reads header values as the broker hands them back: text arrives as UTF-8 bytes.</summary>
internal static class HeaderValues
{
    public static string Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? string.Empty;
}
