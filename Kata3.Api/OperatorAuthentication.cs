using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Kata3.Api.JobsUi;
using Kata3.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Kata3.Api;

public sealed class OperatorKeyOptions : AuthenticationSchemeOptions
{
    /// <summary>The operator key (<c>Operators:Key</c>); null closes every operator route.</summary>
    public string? Key { get; set; }
}

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;operator key&gt;</c>. The presented key and the
/// configured one are compared as SHA-256 hashes in constant time, so neither their content nor
/// their length leaks through timing.
/// </summary>
internal sealed class OperatorKeyHandler(
    IOptionsMonitor<OperatorKeyOptions> options, ILoggerFactory logger, UrlEncoder encoder, IProblemDetailsService problemDetails)
    : AuthenticationHandler<OperatorKeyOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith(OperatorAccess.BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (Options.Key is not { } expected || !KeysMatch(header[OperatorAccess.BearerPrefix.Length..].Trim(), expected))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong operator key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, OperatorAccess.Policy)], OperatorAccess.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), OperatorAccess.Scheme)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{OperatorAccess.AuthorizationScheme} realm=\"kata3-operators\"";
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Operator key required",
                Detail = "This route is for operators: send 'Authorization: Bearer <operator key>' (the AppHost's 'operator-key' parameter).",
            },
        });
    }

    internal static bool KeysMatch(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

internal static class OperatorAuthentication
{
    private const string KeyOrCookieScheme = "OperatorKeyOrCookie";

    /// <summary>
    /// The operator scheme and policy: every route that reads other people's data or changes the
    /// queue requires <see cref="OperatorAccess.Policy"/>.
    /// </summary>
    public static IHostApplicationBuilder AddOperatorAuthentication(this IHostApplicationBuilder builder)
    {
        var key = builder.Configuration[OperatorAccess.KeySetting];
        if (key is not null && key.Length < OperatorAccess.MinimumKeyLength)
        {
            throw new OptionsValidationException(OperatorAccess.KeySetting, typeof(OperatorKeyOptions),
                [$"{OperatorAccess.KeySetting} must be at least {OperatorAccess.MinimumKeyLength} characters."]);
        }

        builder.Services.AddAuthentication(OperatorAccess.Scheme)
            .AddScheme<OperatorKeyOptions, OperatorKeyHandler>(OperatorAccess.Scheme, options => options.Key = key)
            .AddOperatorCookie()
            // The jobs UI's cookie counts under /ui only, where every form carries an antiforgery
            // token; the JSON routes keep wanting the header, so no cross-site form can drive them
            // and an anonymous call still gets 401, not a redirect to the login page.
            .AddPolicyScheme(KeyOrCookieScheme, "Operator key, or the jobs UI's cookie under /ui", options =>
                options.ForwardDefaultSelector = context =>
                    context.Request.Path.StartsWithSegments(JobsUiPaths.Root) && context.Request.Headers.Authorization.Count == 0
                        ? OperatorCookie.Scheme
                        : OperatorAccess.Scheme);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(OperatorAccess.Policy, policy => policy
                .AddAuthenticationSchemes(KeyOrCookieScheme)
                .RequireRole(OperatorAccess.Policy));
        return builder;
    }

    /// <summary>
    /// Whether this request carries the operator key (for the failure-simulation header): the
    /// scheme is the default one, so UseAuthentication has already authenticated it.
    /// </summary>
    /// <summary>
    /// A group of operator routes: other people's data and the queue's controls, so the key is
    /// required, and the per-client limit applies as on every route.
    /// </summary>
    public static RouteGroupBuilder MapOperatorGroup(this IEndpointRouteBuilder app, string prefix, string tag) =>
        app.MapGroup(prefix).WithTags(tag)
            .RequireAuthorization(OperatorAccess.Policy)
            .RequireRateLimiting(ClientRateLimiting.PolicyName);

    public static bool IsOperator(this HttpContext context) => context.User.IsInRole(OperatorAccess.Policy);

    /// <summary>Says once, at start, that the operator routes are closed when no key is configured.</summary>
    public static void WarnIfNoOperatorKey(this WebApplication app)
    {
        if (app.Configuration[OperatorAccess.KeySetting] is null)
        {
            app.Logger.LogWarning("{Setting} is not set: every operator route (/jobs...) answers 401.", OperatorAccess.KeySetting);
        }
    }
}
