using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Kata3.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Kata3.Api.JobsUi;

/// <summary>
/// The jobs UI's sign-in: the operator key typed once into /ui/login, then a cookie for /ui only
/// (HttpOnly, SameSite=Strict, Secure over HTTPS, sliding 8 h). The cookie carries a fingerprint of
/// the key it was issued for, so changing the key signs every browser out.
/// </summary>
internal static class OperatorCookie
{
    public const string Scheme = "OperatorCookie";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);
    private const string KeyClaim = "kata3:key";

    public static AuthenticationBuilder AddOperatorCookie(this AuthenticationBuilder authentication) =>
        authentication.AddCookie(Scheme, options =>
        {
            options.Cookie.Name = "kata3-operator";
            options.Cookie.Path = JobsUiPaths.Root;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = Lifetime;
            options.SlidingExpiration = true;
            options.LoginPath = JobsUiPaths.Login;
            options.AccessDeniedPath = JobsUiPaths.Login;
            options.ReturnUrlParameter = "returnUrl";
            options.Events.OnValidatePrincipal = context =>
            {
                var key = ConfiguredKey(context.HttpContext);
                if (key is null || context.Principal?.FindFirstValue(KeyClaim) != Fingerprint(key))
                {
                    context.RejectPrincipal();
                }
                return Task.CompletedTask;
            };
        });

    /// <summary>Signs the browser in when <paramref name="presented"/> is the operator key (compared in fixed time).</summary>
    public static async Task<bool> TrySignInAsync(HttpContext context, string? presented)
    {
        var key = ConfiguredKey(context);
        if (key is null || string.IsNullOrEmpty(presented) || !OperatorKeyHandler.KeysMatch(presented, key))
        {
            return false;
        }
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Role, OperatorAccess.Policy), new Claim(KeyClaim, Fingerprint(key))], Scheme);
        await context.SignInAsync(Scheme, new ClaimsPrincipal(identity));
        return true;
    }

    public static Task SignOutAsync(HttpContext context) => context.SignOutAsync(Scheme);

    private static string? ConfiguredKey(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptionsMonitor<OperatorKeyOptions>>().Get(OperatorAccess.Scheme).Key;

    // Inside the encrypted cookie anyway; hashed so that not even the key's hash is the one used elsewhere.
    private static string Fingerprint(string key) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("kata3-jobs-ui:" + key)))[..32];
}
