namespace Kata3.Contracts;

/// <summary>
/// The operator credential: one shared key that the AppHost keeps as a secret parameter and gives
/// to the API, sent by operators (curl, the dashboard's commands) as <c>Authorization: Bearer</c>.
/// </summary>
public static class OperatorAccess
{
    /// <summary>The AppHost's secret parameter holding the key (the dashboard's Parameters tab).</summary>
    public const string KeyParameter = "operator-key";

    /// <summary>The API's setting that holds the key; without it every operator route answers 401.</summary>
    public const string KeySetting = "Operators:Key";

    /// <summary>Shortest key the API accepts.</summary>
    public const int MinimumKeyLength = 32;

    public const string Scheme = "OperatorKey";
    public const string Policy = "Operator";
    /// <summary>The Authorization header's scheme operators send the key with.</summary>
    public const string AuthorizationScheme = "Bearer";
    public const string BearerPrefix = AuthorizationScheme + " ";
}
