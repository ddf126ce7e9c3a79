using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Kata3.AppHost;

/// <summary>
/// The AppHost's "Kata3" section: `--Kata3:Workers=4` on the command line or `Kata3__Workers=4`
/// in the environment. Kata3:Infrastructure and the data keys are read by AddKata3Infrastructure.
/// </summary>
internal sealed class Kata3Settings
{
    public const string SectionName = "Kata3";

    /// <summary>Worker replicas.</summary>
    [Range(1, 64)]
    public int Workers { get; set; } = 2;

    /// <summary>Simulated work per job.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan JobDuration { get; set; } = TimeSpan.FromSeconds(2);

    public static Kata3Settings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(SectionName).Get<Kata3Settings>() ?? new Kata3Settings();
        Validator.ValidateObject(settings, new ValidationContext(settings), validateAllProperties: true);
        return settings;
    }
}
