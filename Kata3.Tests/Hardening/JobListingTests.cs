using System.Net;
using System.Net.Http.Json;
using Kata3.Tests.Infrastructure;

namespace Kata3.Tests.Hardening;

/// <summary>
/// GET /jobs pages by keyset: every query parameter is range-checked (400 naming it, never a
/// 500), and walking the pages returns every job once, in order, at any depth.
/// </summary>
[Collection(OneWorkerCollection.Name)]
public sealed class JobListingTests(OneWorkerApp app)
{
    [Theory]
    [InlineData("page=2147483647", "page")]
    [InlineData("status=completed&page=-1", "page")]
    [InlineData("pageSize=20", "pageSize")]
    [InlineData("status=finished", "status")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=99999999999999999999", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("after=not-a-cursor", "after")]
    [InlineData("after=MTIz", "after")]
    public async Task AbsurdParametersAre400NamingTheParameter(string query, string field)
    {
        using var response = await app.Api.GetAsync($"/jobs?{query}");
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query} answered {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"\"{field}\"", body);
    }

    [Fact]
    public async Task WalkingThePagesReturnsEveryJobOnceNewestFirst()
    {
        var accepted = new List<OrderAcceptedBody>();
        for (var i = 0; i < 5; i++)
        {
            accepted.Add(await app.PostOrderAsync($"listed-{i}"));
        }
        foreach (var order in accepted)
        {
            await app.WaitForOrderAsync(order.OrderId, TimeSpan.FromSeconds(30), "completed");
        }

        var seen = new List<JobListItem>();
        string? after = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = (await app.Api.GetFromJsonAsync<JobListPage>(
                $"/jobs?status=completed&limit=2{(after is null ? "" : $"&after={after}")}"))!;
            Assert.True(page.Items.Count <= 2, $"a page of {page.Items.Count} for limit=2");
            seen.AddRange(page.Items);
            if (page.Next is null)
            {
                break;
            }
            after = page.Next;
        }

        Assert.Equal(seen.Count, seen.Select(j => j.JobId).Distinct().Count());
        Assert.All(accepted, a => Assert.Contains(seen, j => j.JobId == a.JobId));
        Assert.All(seen, j => Assert.Equal("completed", j.Status));
        // Newest first: the five jobs, completed one after another on one replica, in reverse order.
        var ours = seen.Where(j => accepted.Any(a => a.JobId == j.JobId)).Select(j => j.JobId).ToList();
        Assert.Equal(accepted.Select(a => a.JobId).Reverse(), ours);
    }

    private sealed record JobListPage(IReadOnlyList<JobListItem> Items, string? Next);

    private sealed record JobListItem(Guid JobId, Guid OrderId, string Status, int Attempts);
}
