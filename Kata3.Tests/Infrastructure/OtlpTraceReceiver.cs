using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kata3.Tests.Infrastructure;

/// <summary>
/// A span as exported over OTLP: ids in lower-case hex, as in a traceparent header; the traces its
/// links point to (a batch's span links to every caller's trace).
/// </summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, ReceivedSpan.SpanKind Kind,
    IReadOnlyList<string> LinkedTraceIds, TimeSpan Duration = default)
{
    public enum SpanKind { Unspecified, Internal, Server, Client, Producer, Consumer }
}

/// <summary>One data point of a gauge or sum, as last exported, with its attributes as text.</summary>
/// <summary>One point of an instrument; <paramref name="Source"/> is the exporting process' service.instance.id.</summary>
public sealed record ReceivedPoint(string Metric, IReadOnlyDictionary<string, string> Attributes, double Value, string Source = "");

/// <summary>
/// An OTLP/HTTP (protobuf) endpoint in the test process that keeps every span the app exports and
/// the latest point of each gauge and sum, standing in for the dashboard, which does not run in
/// tests. Logs are kept as received, to be searched for a message.
/// </summary>
public sealed class OtlpTraceReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentDictionary<string, ReceivedPoint> _points = new();
    private readonly ConcurrentQueue<byte[]> _logRequests = new();

    public OtlpTraceReceiver()
    {
        Endpoint = $"http://127.0.0.1:{FreePort()}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    /// <summary>The base address, for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters add /v1/traces).</summary>
    public string Endpoint { get; }

    public IReadOnlyList<ReceivedSpan> SpansOf(string traceId) => [.. _spans.Where(s => s.TraceId == traceId)];

    public IReadOnlyList<ReceivedSpan> SpansNamed(string name) => [.. _spans.Where(s => s.Name == name)];

    /// <summary>The latest points of a metric, one per process and set of attributes.</summary>
    public IReadOnlyList<ReceivedPoint> PointsOf(string metric) => PointsOf(metric, []);

    /// <summary>The latest points of a metric that carry all the given attributes.</summary>
    public IReadOnlyList<ReceivedPoint> PointsOf(string metric, params (string Key, string Value)[] attributes) =>
        [.. _points.Values.Where(p => p.Metric == metric && attributes.All(a => p.Attributes.GetValueOrDefault(a.Key) == a.Value))];

    /// <summary>
    /// A counter's total over every process that exported it, counting only points carrying all
    /// the given attributes (the latest point of a cumulative sum is its total so far).
    /// </summary>
    public double Total(string metric, params (string Key, string Value)[] attributes) =>
        PointsOf(metric, attributes).Sum(p => p.Value);

    /// <summary>Waits until a counter's <see cref="Total"/> reaches <paramref name="atLeast"/>.</summary>
    public Task WaitForTotalAsync(string metric, double atLeast, TimeSpan timeout, params (string Key, string Value)[] attributes) =>
        Eventually.Async(() => Task.FromResult(Total(metric, attributes) >= atLeast), timeout,
            () => $"{metric}{{{string.Join(",", attributes.Select(a => $"{a.Key}={a.Value}"))}}} totals {Total(metric, attributes)}, not {atLeast}");

    /// <summary>Whether an exported log record carries the text (protobuf keeps strings as UTF-8).</summary>
    public bool LogsMention(string text) =>
        _logRequests.Any(request => request.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0);

    /// <summary>Forgets every point received so far, so what follows is known to be fresh.</summary>
    public void ClearPoints() => _points.Clear();

    public void Dispose() => _listener.Close();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                foreach (var span in OtlpProtobuf.ReadSpans(body.ToArray()))
                {
                    _spans.Enqueue(span);
                }
            }
            else if (context.Request.Url?.AbsolutePath == "/v1/logs")
            {
                _logRequests.Enqueue(body.ToArray());
            }
            else if (context.Request.Url?.AbsolutePath == "/v1/metrics")
            {
                foreach (var point in OtlpProtobuf.ReadPoints(body.ToArray()))
                {
                    _points[point.Source + "|" + point.Metric + "|" + string.Join(",", point.Attributes.OrderBy(a => a.Key))] = point;
                }
            }
            // An empty Export*ServiceResponse: everything accepted.
            context.Response.StatusCode = (int)HttpStatusCode.OK;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>
/// Just enough of the protobuf wire format to read the spans of an ExportTraceServiceRequest
/// (resource_spans = 1 → scope_spans = 2 → spans = 2, each span's start and end = 7 and 8, links = 13) and the gauge and sum
/// points of an ExportMetricsServiceRequest (resource_metrics = 1 → resource = 1 and scope_metrics = 2 → metrics = 2,
/// name = 1, gauge = 5 or sum = 7 → data_points = 1), so the tests need no generated OTLP types.
/// </summary>
internal static class OtlpProtobuf
{
    public static IEnumerable<ReceivedSpan> ReadSpans(byte[] request) =>
        from resourceSpans in Messages(request, 1)
        from scopeSpans in Messages(resourceSpans, 2)
        from span in Messages(scopeSpans, 2)
        select ReadSpan(span);

    private static ReceivedSpan ReadSpan(ReadOnlyMemory<byte> span)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = ReceivedSpan.SpanKind.Unspecified;
        var links = new List<string>();
        ulong start = 0, end = 0;
        foreach (var (number, value, payload) in Fields(span))
        {
            switch (number)
            {
                case 1: traceId = Convert.ToHexStringLower(payload.Span); break;
                case 2: spanId = Convert.ToHexStringLower(payload.Span); break;
                case 4 when payload.Length > 0: parent = Convert.ToHexStringLower(payload.Span); break;
                case 5: name = Encoding.UTF8.GetString(payload.Span); break;
                case 6: kind = (ReceivedSpan.SpanKind)value; break;
                case 7: start = value; break;
                case 8: end = value; break;
                case 13: links.AddRange(Messages(payload, 1).Select(id => Convert.ToHexStringLower(id.Span))); break;
            }
        }
        return new ReceivedSpan(traceId, spanId, parent, name, kind, links, TimeSpan.FromTicks((long)(end - start) / 100));
    }

    public static IEnumerable<ReceivedPoint> ReadPoints(byte[] request) =>
        from resourceMetrics in Messages(request, 1)
        let source = Attributes(Messages(resourceMetrics, 1).FirstOrDefault()).GetValueOrDefault("service.instance.id", "")
        from scopeMetrics in Messages(resourceMetrics, 2)
        from metric in Messages(scopeMetrics, 2)
        let name = Encoding.UTF8.GetString(Messages(metric, 1).FirstOrDefault().Span)
        from data in Messages(metric, 5).Concat(Messages(metric, 7))
        from point in Messages(data, 1)
        select ReadPoint(name, point, source);

    // NumberDataPoint: as_double = 4 (double), as_int = 6 (sfixed64), attributes = 7.
    private static ReceivedPoint ReadPoint(string metric, ReadOnlyMemory<byte> point, string source)
    {
        double value = 0;
        foreach (var (number, raw, _) in Fields(point))
        {
            switch (number)
            {
                case 4: value = BitConverter.Int64BitsToDouble((long)raw); break;
                case 6: value = (long)raw; break;
            }
        }
        return new ReceivedPoint(metric, Attributes(point, 7), value, source);
    }

    // The KeyValue fields of a message (a Resource's are field 1, a point's field 7): key = 1,
    // value = 2 → AnyValue: string_value = 1, bool_value = 2, int_value = 3.
    private static Dictionary<string, string> Attributes(ReadOnlyMemory<byte> message, int fieldNumber = 1)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var pair in Messages(message, fieldNumber))
        {
            var key = Encoding.UTF8.GetString(Messages(pair, 1).First().Span);
            var any = Fields(Messages(pair, 2).FirstOrDefault()).FirstOrDefault(); // an empty value has no field
            attributes[key] = any.Number switch
            {
                0 => "",
                1 => Encoding.UTF8.GetString(any.Payload.Span),
                _ => ((long)any.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        return attributes;
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int fieldNumber) =>
        Fields(message).Where(f => f.Number == fieldNumber).Select(f => f.Payload);

    // Every field of a message: its number, and its value (varint, fixed64) or payload (length-delimited).
    private static IEnumerable<(int Number, ulong Value, ReadOnlyMemory<byte> Payload)> Fields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message.Span, ref position);
            var (number, wireType) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wireType)
            {
                case 0:
                    yield return (number, ReadVarint(message.Span, ref position), ReadOnlyMemory<byte>.Empty);
                    break;
                case 1:
                    yield return (number, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(message.Span[position..]), ReadOnlyMemory<byte>.Empty);
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message.Span, ref position);
                    yield return (number, 0, message.Slice(position, length));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unexpected protobuf wire type {wireType}.");
            }
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
