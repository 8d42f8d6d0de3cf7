namespace JobDedup.Benchmarks.Suites;

/// <summary>Keys made once, before measuring, so no benchmark pays for building strings.</summary>
public static class Keys
{
    public static string[] Create(int count, string prefix)
    {
        var keys = new string[count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return keys;
    }
}
