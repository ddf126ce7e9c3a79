using Microsoft.Playwright;

namespace Kata3.Tests.JobsUi;

/// <summary>Moves focus the way a keyboard user does: Tab, one element at a time.</summary>
public static class Keyboard
{
    /// <summary>Presses Tab until the focused element matches <paramref name="selector"/>; fails after <paramref name="most"/> presses.</summary>
    public static async Task TabToAsync(this IPage page, string selector, int most = 150)
    {
        for (var presses = 0; presses < most; presses++)
        {
            if (await page.EvaluateAsync<bool>("s => document.activeElement?.matches(s) ?? false", selector))
            {
                return;
            }
            await page.Keyboard.PressAsync("Tab");
        }
        Assert.Fail($"'{selector}' was not reached with {most} presses of Tab.");
    }
}
