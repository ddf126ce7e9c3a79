// Load generator for bench/ingest and bench/latency: POST /orders, every answer must be 202.
//
//   Kata3.Bench closed URL CLIENTS SECONDS [PRODUCT]   CLIENTS loops, each posting as soon as its previous answer came
//   Kata3.Bench open   URL RATE    SECONDS [PRODUCT]   open loop: request i is sent at start + i / RATE whatever the answers
//
// Prints one JSON line: {"sent","accepted","errors","seconds","perSecond","p50Ms","p99Ms","maxMs","firstError","cpuSeconds"}.
// Latency is measured from the moment a request was due (open loop) or sent (closed loop) to its answer.
// cpuSeconds is the generator's own CPU time: on two cores it is taken from the app it measures.
using System.Diagnostics;
using System.Text;
using Kata3.Bench;

if (args.Length < 4 || args[0] is not ("closed" or "open"))
{
    Console.Error.WriteLine("usage: Kata3.Bench closed|open URL CLIENTS|RATE SECONDS [PRODUCT]");
    return 2;
}

var mode = args[0];
var url = new Uri(args[1]);
var amount = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var seconds = double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
var product = args.Length > 4 ? args[4] : "bench";
var body = $$"""{"product":"{{product}}","quantity":1,"price":9.99}""";
var request = Encoding.ASCII.GetBytes(
    $"POST /orders HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}");

var latencies = new List<double>[mode == "closed" ? amount : 1];
for (var i = 0; i < latencies.Length; i++)
{
    latencies[i] = new List<double>(capacity: 1 << 16);
}
long sent = 0, accepted = 0, errors = 0;
string? firstError = null;
var idle = new Stack<HttpConnection>();

// Keep-alive connections: an idle one is reused, a new one opened when all are busy (its connect
// counts in that request's latency, as it would for any client).
async Task PostAsync(long dueTimestamp, List<double> into)
{
    Interlocked.Increment(ref sent);
    HttpConnection? connection = null;
    try
    {
        lock (idle)
        {
            idle.TryPop(out connection);
        }
        connection ??= await HttpConnection.OpenAsync(url);
        var status = await connection.SendAsync(request);
        var ms = Stopwatch.GetElapsedTime(dueTimestamp).TotalMilliseconds;
        lock (idle)
        {
            idle.Push(connection);
        }
        if (status == 202)
        {
            Interlocked.Increment(ref accepted);
            lock (into)
            {
                into.Add(ms);
            }
        }
        else
        {
            Interlocked.Increment(ref errors);
            Interlocked.CompareExchange(ref firstError, $"HTTP {status}", null);
        }
    }
    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
    {
        connection?.Dispose();
        Interlocked.Increment(ref errors);
        Interlocked.CompareExchange(ref firstError, $"{e.GetType().Name}: {e.Message}", null);
    }
}

var duration = TimeSpan.FromSeconds(seconds);
var start = Stopwatch.GetTimestamp();
if (mode == "closed")
{
    await Task.WhenAll(Enumerable.Range(0, amount).Select(c => Task.Run(async () =>
    {
        while (Stopwatch.GetElapsedTime(start) < duration)
        {
            await PostAsync(Stopwatch.GetTimestamp(), latencies[c]);
        }
    })));
}
else
{
    var inFlight = new List<Task>(capacity: (int)(amount * seconds) + 16);
    var total = (long)(amount * seconds);
    var ticksPerRequest = Stopwatch.Frequency / (double)amount;
    for (long i = 0; i < total;)
    {
        var now = Stopwatch.GetTimestamp();
        // Send every request that is due by now (more than one if the timer woke late).
        while (i < total && start + (long)(i * ticksPerRequest) <= now)
        {
            inFlight.Add(PostAsync(start + (long)(i * ticksPerRequest), latencies[0]));
            i++;
        }
        if (i < total)
        {
            // Sleep, never spin: spinning takes CPU from the app it measures.
            // The timer wakes up to ~1 ms late; latency counts from the due time, so that lateness
            // is charged to the app, not hidden.
            var wait = start + (long)(i * ticksPerRequest) - Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromTicks(Math.Max(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency, TimeSpan.TicksPerMillisecond)));
        }
    }
    await Task.WhenAll(inFlight);
}
var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
foreach (var connection in idle)
{
    connection.Dispose();
}

var all = latencies.SelectMany(l => l).Order().ToArray();
double? Percentile(double p) => all.Length == 0 ? null : Math.Round(all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)], 2);
var json = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
{
    ["sent"] = sent,
    ["accepted"] = accepted,
    ["errors"] = errors,
    ["seconds"] = Math.Round(elapsed, 3),
    ["perSecond"] = Math.Round(accepted / elapsed, 1),
    ["p50Ms"] = Percentile(0.50),
    ["p99Ms"] = Percentile(0.99),
    ["maxMs"] = Percentile(1.0),
    ["firstError"] = firstError,
    ["cpuSeconds"] = Math.Round(Environment.CpuUsage.TotalTime.TotalSeconds, 2),
});
Console.WriteLine(json);
return 0;
