using System.Text;
using Kata3.Contracts;

namespace Kata3.Tests.Fast;

/// <summary>The queue entry both sides share (JobMessage): what parses, what does not, and finding the job in either.</summary>
[Trait("Category", "Fast")]
public sealed class JobMessageTests
{
    private static readonly Guid JobId = Guid.Parse("0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    private static readonly Guid OrderId = Guid.Parse("0199a1b2-c3d4-7e5f-8a9b-000000000001");

    private static readonly JobMessage Message = new(JobMessage.CurrentVersion, JobId, OrderId,
        new DateTimeOffset(2026, 11, 28, 12, 30, 15, 123, TimeSpan.Zero),
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=value", JobPriority.High);

    [Fact]
    public void SerializedMessageParsesBackToTheSame()
    {
        Assert.Equal(Message, JobMessage.TryParse(Message.Serialize()));
    }

    [Fact]
    public void SerializedMessageNamesItsJobWhereEveryVersionKeepsIt()
    {
        var entry = Message.Serialize();

        Assert.Contains($"\"jobId\":\"{JobId}\"", entry);
        Assert.Equal(JobId, JobMessage.TryReadJobId(entry));
        Assert.Equal(JobId, JobMessage.TryReadJobId(Encoding.UTF8.GetBytes(entry)));
    }

    [Fact]
    public void MessageWithoutPriorityIsNormal()
    {
        var entry = $$"""{"version":1,"jobId":"{{JobId}}","orderId":"{{OrderId}}","enqueuedAt":"2026-11-28T12:30:15Z"}""";

        var message = JobMessage.TryParse(entry);

        Assert.Equal((JobPriority.Normal, (string?)null), (message?.Priority, message?.TraceParent));
    }

    [Fact]
    public void MessageOfAnotherVersionParsesAsThatVersionSoTheConsumerSetsItAside()
    {
        var entry = $$"""{"version":2,"jobId":"{{JobId}}","orderId":"{{OrderId}}","enqueuedAt":"2026-11-28T12:30:15Z","extra":[1,2]}""";

        Assert.Equal(2, JobMessage.TryParse(entry)?.Version);
        Assert.Equal(JobId, JobMessage.TryReadJobId(entry));
    }

    [Fact]
    public void EntryOfAnotherShapeStillNamesItsJob()
    {
        // Version 9 changed orderId into an object: not a message this consumer can read, but its job can be found.
        var entry = $$"""{"version":9,"orderId":{"id":7,"jobId":"not this one"},"jobId":"{{JobId}}"}""";

        Assert.Null(JobMessage.TryParse(entry));
        Assert.Equal(JobId, JobMessage.TryReadJobId(entry));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not json")]
    [InlineData("{\"version\":1,\"jobId\":")]
    [InlineData("[1,2,3]")]
    [InlineData("42")]
    [InlineData("\"a string\"")]
    [InlineData("null")]
    [InlineData("{\"version\":1,\"jobId\":\"not a guid\"}")]
    [InlineData("{\"version\":1,\"jobId\":12}")]
    public void GarbageIsNoMessage(string? entry)
    {
        Assert.Null(JobMessage.TryParse(entry));
    }

    [Fact]
    public void CurrentVersionMissingItsFieldsIsNoMessage()
    {
        Assert.Null(JobMessage.TryParse($$"""{"version":1,"jobId":"{{JobId}}"}"""));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[\"0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"]")]
    [InlineData("{\"jobId\":\"0199a1b2-c3d4-7e5f")]
    [InlineData("{\"jobId\":\"not a guid\"}")]
    [InlineData("{\"jobId\":12}")]
    [InlineData("{\"jobId\":null}")]
    [InlineData("{\"jobId\":\"00000000-0000-0000-0000-000000000000\"}")]
    [InlineData("{\"inner\":{\"jobId\":\"0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"}}")]
    [InlineData("{\"version\":1}")]
    public void EntryNamingNoJobGivesNoJobId(string? entry)
    {
        Assert.Null(JobMessage.TryReadJobId(entry));
    }
}
