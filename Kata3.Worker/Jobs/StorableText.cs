using System.Text;

namespace Kata3.Worker.Jobs;

/// <summary>
/// Text PostgreSQL accepts: a text value cannot hold NUL and the encoder refuses a lone surrogate,
/// and an exception message can carry either.
/// </summary>
internal static class StorableText
{
    /// <summary>Drops NUL, replaces lone surrogates and cuts to <paramref name="maxLength"/>, never inside a surrogate pair.</summary>
    public static string? From(string? text, int maxLength)
    {
        if (text is null)
        {
            return null;
        }
        var storable = new StringBuilder(Math.Min(text.Length, maxLength));
        for (var i = 0; i < text.Length && storable.Length < maxLength; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                continue;
            }
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                if (storable.Length + 2 > maxLength)
                {
                    break;
                }
                storable.Append(c).Append(text[++i]);
            }
            else
            {
                storable.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return storable.ToString();
    }
}
