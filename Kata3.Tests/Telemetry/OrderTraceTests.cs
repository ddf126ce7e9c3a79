using Kata3.Tests.Infrastructure;
using static Kata3.Tests.Infrastructure.ReceivedSpan;

namespace Kata3.Tests.Telemetry;

/// <summary>An order is one trace: what the dashboard's Traces page shows for the traceId of a 202.</summary>
[Collection(OneWorkerCollection.Name)]
public sealed class OrderTraceTests(OneWorkerApp app)
{
    [Fact]
    public async Task AnOrderIsOneTraceFromThePostThroughThePushToTheWorkersUpdates()
    {
        var accepted = await app.PostOrderAsync("traced");
        var traceId = Assert.IsType<string>(accepted.TraceId);
        await app.WaitForOrderAsync(accepted.OrderId, TimeSpan.FromSeconds(30), "completed");

        // Each process exports its spans in batches, every few seconds.
        IReadOnlyList<ReceivedSpan> spans = [];
        await Eventually.Async(() =>
        {
            spans = app.Telemetry.SpansOf(traceId);
            return Task.FromResult(spans.Any(s => s.Name == "process job") && spans.Count(IsStatement) >= 3);
        }, TimeSpan.FromSeconds(30), () => $"trace {traceId} has only: {string.Join(", ", spans.Select(s => $"{s.Name} ({s.Kind})"))}");

        var post = Assert.Single(spans, s => s.Kind == SpanKind.Server && s.Name.StartsWith("POST /orders"));
        var push = Assert.Single(spans, s => s.Name == "push jobs");
        Assert.Equal((SpanKind.Producer, post.SpanId), (push.Kind, push.ParentSpanId));
        var process = Assert.Single(spans, s => s.Name == "process job");
        Assert.Equal((SpanKind.Consumer, post.SpanId), (process.Kind, process.ParentSpanId));
        // PostgreSQL: the insert under the POST; the claim and the completion under the worker's span.
        var statements = spans.Where(IsStatement).ToList();
        Assert.Single(statements, s => s.ParentSpanId == post.SpanId);
        Assert.Equal(2, statements.Count(s => s.ParentSpanId == process.SpanId));
    }

    [Fact]
    public async Task AnInsertSharedBySeveralOrdersIsASpanOfItsOwnLinkedToEachOrdersTrace()
    {
        // Concurrent POSTs share one insert when they arrive while another is being written. Low
        // priority, so the other test's order is not queued behind them on the one replica.
        var traceIds = new HashSet<string>();
        for (var burst = 0; burst < 3; burst++)
        {
            var accepted = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => app.PostOrderAsync("batched", price: 1m, priority: "low")));
            traceIds.UnionWith(accepted.Select(a => a.TraceId!));
        }

        ReceivedSpan? shared = null;
        await Eventually.Async(() =>
        {
            shared = app.Telemetry.SpansNamed("insert orders").FirstOrDefault(s => s.LinkedTraceIds.Count(traceIds.Contains) > 1);
            return Task.FromResult(shared is not null);
        }, TimeSpan.FromSeconds(30), () => "no insert was shared by several of the 48 orders");

        // A root in a trace of its own: not a child of whichever request first created the writer.
        Assert.Null(shared!.ParentSpanId);
        Assert.DoesNotContain(shared.TraceId, traceIds);
    }

    // A database statement; a pooled connection being opened is a client span of its own ("CONNECT kata3db").
    private static bool IsStatement(ReceivedSpan span) => span.Kind == SpanKind.Client && !span.Name.StartsWith("CONNECT");
}
