using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace JobDedup.Worker.Settings;

/// <summary>
/// Checks a configuration section against the settings classes before they are bound, so that each mistake is named
/// by its full path in plain words: a setting that does not exist (with the nearest name it may be a typo of), a
/// value that is not of the setting's kind, a choice that is not one of the allowed ones (listed).
/// </summary>
internal static class SettingsCheck
{
    /// <summary>Lists the problems of <paramref name="section"/> read as <paramref name="type"/>, each starting with its path.</summary>
    public static List<string> Problems(IConfigurationSection section, Type type)
    {
        var problems = new List<string>();
        CheckSection(section, type, problems);
        return problems;
    }

    private static void CheckSection(IConfigurationSection section, Type type, List<string> problems)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(static p => p.GetIndexParameters().Length == 0)
            .ToDictionary(static p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (properties.TryGetValue(child.Key, out var property))
            {
                CheckValue(child, property.PropertyType, problems);
                continue;
            }

            var names = properties.Keys.Order(StringComparer.Ordinal).ToList();
            var nearest = Nearest(child.Key, names);
            problems.Add(nearest is null
                ? $"{child.Path} is not a setting. The settings of {section.Path} are: {string.Join(", ", names)}."
                : $"{child.Path} is not a setting; did you mean {nearest}? The settings of {section.Path} are: {string.Join(", ", names)}.");
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, List<string> problems)
    {
        var hasChildren = section.GetChildren().Any();
        if (ElementType(type, out var isDictionary) is { } element)
        {
            if (section.Value is { Length: > 0 } && !hasChildren)
            {
                problems.Add($"{section.Path} is a list of {(isDictionary ? "named entries" : "values")}, not a single value: set {section.Path}:{(isDictionary ? "NAME" : "0")}.");
                return;
            }

            foreach (var child in section.GetChildren())
            {
                CheckValue(child, element, problems);
            }

            return;
        }

        var leaf = Nullable.GetUnderlyingType(type) ?? type;
        if (!IsSingleValue(leaf))
        {
            if (section.Value is { Length: > 0 } && !hasChildren)
            {
                problems.Add($"{section.Path} is a group of settings, not a single value: set {section.Path}:NAME.");
                return;
            }

            CheckSection(section, leaf, problems);
            return;
        }

        if (hasChildren)
        {
            problems.Add($"{section.Path} is a single value, not a group of settings: {string.Join(", ", section.GetChildren().Select(static c => c.Path))} cannot be read.");
            return;
        }

        if (section.Value is not { Length: > 0 } value)
        {
            return;
        }

        if (leaf.IsEnum)
        {
            if (!Enum.TryParse(leaf, value, ignoreCase: true, out var parsed) || !Enum.IsDefined(leaf, parsed!) || int.TryParse(value, CultureInfo.InvariantCulture, out _))
            {
                problems.Add($"{section.Path} is '{value}', which is not one of: {string.Join(", ", Enum.GetNames(leaf))}.");
            }

            return;
        }

        try
        {
            TypeDescriptor.GetConverter(leaf).ConvertFromInvariantString(value);
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException || ex.InnerException is FormatException or OverflowException)
        {
            problems.Add($"{section.Path} is '{value}', which is not {Kind(leaf)}.");
        }
    }

    /// <summary>The element type of a list or dictionary setting; null for anything else.</summary>
    private static Type? ElementType(Type type, out bool isDictionary)
    {
        isDictionary = false;
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var generic = type.GetInterfaces().Append(type)
            .Where(static i => i.IsGenericType)
            .Select(static i => (Definition: i.GetGenericTypeDefinition(), i.GenericTypeArguments))
            .ToList();
        if (generic.FirstOrDefault(static i => i.Definition == typeof(IDictionary<,>)) is { GenericTypeArguments: [_, var value] })
        {
            isDictionary = true;
            return value;
        }

        return generic.FirstOrDefault(static i => i.Definition == typeof(IEnumerable<>)) is { GenericTypeArguments: [var element] } ? element : null;
    }

    private static bool IsSingleValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid);

    private static string Kind(Type type) => type switch
    {
        _ when type == typeof(TimeSpan) => "a duration such as 00:00:30 (hh:mm:ss) or 1.00:00:00 (a day)",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "a whole number",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
        _ when type == typeof(Uri) => "an address",
        _ => $"a valid {type.Name}",
    };

    /// <summary>The one name within two edits of <paramref name="name"/> (case aside), if there is exactly one nearest.</summary>
    private static string? Nearest(string name, List<string> names)
    {
        var scored = names
            .Select(candidate => (candidate, Distance: Distance(name.ToUpperInvariant(), candidate.ToUpperInvariant())))
            .Where(static c => c.Distance <= 2)
            .OrderBy(static c => c.Distance)
            .ToList();
        return scored.Count > 0 && (scored.Count == 1 || scored[0].Distance < scored[1].Distance) ? scored[0].candidate : null;
    }

    /// <summary>The Levenshtein distance of two short names.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
