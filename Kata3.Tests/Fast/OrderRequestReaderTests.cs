using System.Text;
using Kata3.Api.Apis;
using Kata3.Contracts;
using Microsoft.AspNetCore.Http;

namespace Kata3.Tests.Fast;

/// <summary>
/// POST /orders' body and headers (OrderRequestReader), one rule of the README's bad-input table
/// per case: each refusal names its field, and a valid body becomes the order to store.
/// </summary>
[Trait("Category", "Fast")]
public sealed class OrderRequestReaderTests
{
    [Fact]
    public async Task ValidBodyBecomesTheOrder()
    {
        var (order, errors) = await ReadAsync("""{"product":"  Tea ☕ 😀  ","quantity":10000,"price":1000000,"priority":"high"}""");

        Assert.Empty(errors);
        Assert.Equal(new NewOrder("Tea ☕ 😀", 10_000, 1_000_000m, JobPriority.High), order);
    }

    [Theory]
    [InlineData("""{"product":"a","quantity":1,"price":0.01}""")]
    [InlineData("""{"PRODUCT":"a","Quantity":1,"PrIcE":1.10,"unknown":{"x":[1]}}""")]
    [InlineData("""{"product":"a","quantity":1,"price":1.000,"priority":"low"}""")]
    [InlineData("""{"product":"a","quantity":1,"price":1e2,"priority":null}""")]
    public async Task BodiesWithinTheRulesAreAccepted(string body)
    {
        var (order, errors) = await ReadAsync(body);

        Assert.Empty(errors);
        Assert.NotNull(order);
    }

    [Fact]
    public async Task OrderWithoutPriorityIsNormal()
    {
        var (order, _) = await ReadAsync("""{"product":"a","quantity":1,"price":1}""");

        Assert.Equal(JobPriority.Normal, order?.Priority);
    }

    [Theory]
    [InlineData("product", """{"quantity":1,"price":1}""")]
    [InlineData("product", """{"product":null,"quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"   ","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\u0000b","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\u0007b","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\tb","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\nb","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\u007fb","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\u0085b","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\ud800b","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"a\udc00b","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":"\ude00\ud83d","quantity":1,"price":1}""")]
    [InlineData("product", """{"product":5,"quantity":1,"price":1}""")]
    [InlineData("product", """{"product":["a"],"quantity":1,"price":1}""")]
    [InlineData("quantity", """{"product":"a","price":1}""")]
    [InlineData("quantity", """{"product":"a","quantity":null,"price":1}""")]
    [InlineData("quantity", """{"product":"a","quantity":0,"price":1}""")]
    [InlineData("quantity", """{"product":"a","quantity":-1,"price":1}""")]
    [InlineData("quantity", """{"product":"a","quantity":10001,"price":1}""")]
    [InlineData("quantity", """{"product":"a","quantity":1.5,"price":1}""")]
    [InlineData("quantity", """{"product":"a","quantity":"3","price":1}""")]
    [InlineData("quantity", """{"product":"a","quantity":99999999999,"price":1}""")]
    [InlineData("price", """{"product":"a","quantity":1}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":null}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":0}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":-0.01}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":1000000.01}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":0.001}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":1.005}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":9.999999999999999999}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":"1.00"}""")]
    [InlineData("price", """{"product":"a","quantity":1,"price":1e400}""")]
    [InlineData("priority", """{"product":"a","quantity":1,"price":1,"priority":"urgent"}""")]
    [InlineData("priority", """{"product":"a","quantity":1,"price":1,"priority":"HIGH"}""")]
    [InlineData("priority", """{"product":"a","quantity":1,"price":1,"priority":""}""")]
    [InlineData("priority", """{"product":"a","quantity":1,"price":1,"priority":1}""")]
    [InlineData("body", """{"product":"a","quantity":1,"price":1} trailing""")]
    [InlineData("body", """{product:"a"}""")]
    [InlineData("body", """{"product":"a","quantity":1,"price":1,}""")]
    [InlineData("body", """{"product":"a" "quantity":1,"price":1}""")]
    [InlineData("body", """{"product":"a","quantity":1,"price":1}}""")]
    [InlineData("product", """{"product":"a","quantity":1,"price":1,"product":"b"}""")]
    [InlineData("body", "")]
    [InlineData("body", "null")]
    [InlineData("body", "[]")]
    [InlineData("body", """[{"product":"a","quantity":1,"price":1}]""")]
    [InlineData("body", "\"an order\"")]
    [InlineData("body", "42")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":"2026-12-24T18:00:00"}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":"2026-12-24"}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":"24/12/2026 18:00 +01:00"}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":"tomorrow"}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":"2026-13-01T00:00:00Z"}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":"2999-01-01T00:00:00Z"}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":""}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":1767225600}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"RUNAT":5}""")]
    [InlineData("runAt", """{"product":"a","quantity":1,"price":1,"runAt":"2026-12-24T18:00:00Z","delaySeconds":5}""")]
    [InlineData("delaySeconds", """{"product":"a","quantity":1,"price":1,"delaySeconds":-1}""")]
    [InlineData("delaySeconds", """{"product":"a","quantity":1,"price":1,"delaySeconds":31536001}""")]
    [InlineData("delaySeconds", """{"product":"a","quantity":1,"price":1,"delaySeconds":1.5}""")]
    [InlineData("delaySeconds", """{"product":"a","quantity":1,"price":1,"delaySeconds":"3"}""")]
    [InlineData("delaySeconds", """{"product":"a","quantity":1,"price":1,"delaySeconds":99999999999999999999}""")]
    public async Task BadBodyIsRefusedNamingTheField(string field, string body)
    {
        var (order, errors) = await ReadAsync(body);

        AssertRefused(field, order, errors);
    }

    // JsonException.Path says where the reader stopped, which for a syntax error after a property
    // name is that property; the body, not 'price' (or an unknown 'x'), is what is wrong.
    [Theory]
    [InlineData("""{"product":"a","quantity":1,"price":1""")]
    [InlineData("""{"product":"a","quantity":1,"price":""")]
    [InlineData("""{"product":"a""")]
    [InlineData("""{"product":"a","quantity":1,"price":1,"x":tru}""")]
    [InlineData("""{"product":"a","quantity":01,"price":1}""")] // JSON has no leading zeros
    public async Task MalformedJsonIsRefusedAsTheBody(string body)
    {
        var (order, errors) = await ReadAsync(body);

        AssertRefused("body", order, errors);
    }

    [Fact]
    public async Task ProductOf200CharactersIsAcceptedAnd201Refused()
    {
        var (order, _) = await ReadAsync(Body(product: new string('x', 200)));
        Assert.Equal(200, order?.Product.Length);
        var (padded, _) = await ReadAsync(Body(product: $"  {new string('x', 200)}  "));
        Assert.Equal(200, padded?.Product.Length);

        var (tooLong, errors) = await ReadAsync(Body(product: new string('x', 201)));
        AssertRefused("product", tooLong, errors);
    }

    [Fact]
    public async Task EveryBadFieldIsNamedAtOnce()
    {
        var (order, errors) = await ReadAsync("""{"product":"","quantity":0,"price":0.001,"priority":"soon"}""");

        Assert.Null(order);
        Assert.Equal(["price", "priority", "product", "quantity"], errors.Keys.Order());
    }

    [Fact]
    public async Task BodyOf16KilobytesIsReadAndOneByteMoreRefused()
    {
        var exactly = Body(product: "a").PadRight(OrderRequestReader.MaxBodyBytes);
        var (order, _) = await ReadAsync(exactly);
        Assert.NotNull(order);

        var (declared, declaredErrors) = await ReadAsync(exactly + " ");
        AssertRefused("body", declared, declaredErrors);
        // Without a Content-Length (chunked) the limit holds while reading.
        var (chunked, chunkedErrors) = await ReadAsync(exactly + " ", declareLength: false);
        AssertRefused("body", chunked, chunkedErrors);
    }

    [Fact]
    public async Task LargeBodyIsRefusedBeforeItIsRead()
    {
        var request = Request(Body(product: "a"));
        request.ContentLength = 1_000_000;

        var (order, errors) = await OrderRequestReader.ReadAsync(request, default);

        AssertRefused("body", order, errors);
        Assert.Equal(0, request.Body.Position);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task BodyThatIsNotJsonIsRefused(string? contentType)
    {
        var (order, errors) = await ReadAsync(Body(product: "a"), contentType: contentType);

        AssertRefused("body", order, errors);
    }

    [Fact]
    public async Task EqualOrdersWrittenDifferentlyHashAlike()
    {
        var (plain, _) = await ReadAsync("""{"product":"Tea","quantity":2,"price":1.5}""");
        var (dressed, _) = await ReadAsync("""{"priority":"normal","price":1.50,"quantity":2,"product":" Tea "}""");
        var (other, _) = await ReadAsync("""{"product":"Tea","quantity":2,"price":1.51}""");

        Assert.Equal(OrderRequestReader.Hash(plain!, 0), OrderRequestReader.Hash(dressed!, 0));
        Assert.NotEqual(OrderRequestReader.Hash(plain!, 0), OrderRequestReader.Hash(other!, 0));
        Assert.NotEqual(OrderRequestReader.Hash(plain!, 0), OrderRequestReader.Hash(plain! with { Priority = JobPriority.High }, 0));
        Assert.NotEqual(OrderRequestReader.Hash(plain!, 0), OrderRequestReader.Hash(plain!, 2));
    }

    [Theory]
    [InlineData("2026-12-24T18:00:00+01:00", "2026-12-24T17:00:00Z")]
    [InlineData("2026-12-24T17:00:00Z", "2026-12-24T17:00:00Z")]
    [InlineData("2026-12-24t17:00z", "2026-12-24T17:00:00Z")]
    [InlineData("2026-12-24T12:00:00.1234567-05:00", "2026-12-24T17:00:00.1234567Z")]
    [InlineData("2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z")] // past: kept, the store runs it at once
    public async Task StartTimeWithAnOffsetIsReadAsAnInstant(string runAt, string utc)
    {
        var (order, errors) = await ReadAsync($$"""{"product":"a","quantity":1,"price":1,"runAt":"{{runAt}}"}""", now: Now);

        Assert.Empty(errors);
        Assert.Equal(new OrderSchedule(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), null), order!.Schedule);
        Assert.Equal(TimeSpan.Zero, order.Schedule!.RunAt!.Value.Offset);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(31_536_000)]
    public async Task DelayIsReadAsAskedFor(long seconds)
    {
        var (order, errors) = await ReadAsync($$"""{"product":"a","quantity":1,"price":1,"delaySeconds":{{seconds}}}""");

        Assert.Empty(errors);
        Assert.Equal(new OrderSchedule(null, seconds), order!.Schedule);
    }

    [Fact]
    public async Task NoDelayAndNullScheduleFieldsAreNoSchedule()
    {
        var (zero, _) = await ReadAsync("""{"product":"a","quantity":1,"price":1,"delaySeconds":0}""");
        var (nulls, _) = await ReadAsync("""{"product":"a","quantity":1,"price":1,"runAt":null,"delaySeconds":null}""");

        Assert.Null(zero!.Schedule);
        Assert.Null(nulls!.Schedule);
    }

    [Fact]
    public async Task StartTimeUpTo365DaysAheadIsAcceptedAndLaterRefused()
    {
        var (within, _) = await ReadAsync(Scheduled(Now.AddDays(365)), now: Now);
        Assert.NotNull(within);

        var (beyond, errors) = await ReadAsync(Scheduled(Now.AddDays(365).AddSeconds(1)), now: Now);
        AssertRefused("runAt", beyond, errors);
    }

    [Fact]
    public async Task ScheduleIsPartOfTheRequestHash()
    {
        var (plain, _) = await ReadAsync("""{"product":"Tea","quantity":2,"price":1.5}""");
        var (utc, _) = await ReadAsync("""{"product":"Tea","quantity":2,"price":1.5,"runAt":"2026-12-24T17:00:00Z"}""", now: Now);
        var (offset, _) = await ReadAsync("""{"product":"Tea","quantity":2,"price":1.5,"runAt":"2026-12-24T18:00:00+01:00"}""", now: Now);
        var (delayed, _) = await ReadAsync("""{"product":"Tea","quantity":2,"price":1.5,"delaySeconds":60}""");

        Assert.Equal(OrderRequestReader.Hash(utc!, 0), OrderRequestReader.Hash(offset!, 0));
        Assert.Equal(3, new[] { plain, utc, delayed }.Select(o => OrderRequestReader.Hash(o!, 0)).Distinct().Count());
        // Unscheduled orders hash as before schedules existed, so stored hashes stay valid.
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("Tea\n2\n1.50\nnormal\n0"))),
            OrderRequestReader.Hash(plain!, 0));
    }

    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static string Scheduled(DateTimeOffset runAt) =>
        $$"""{"product":"a","quantity":1,"price":1,"runAt":"{{runAt:yyyy-MM-ddTHH:mm:ssZ}}"}""";

    public static TheoryData<string> GoodKeys => new() { "k", "order-2026-11-28-0001", "ключ 😀", new string('k', 200) };
    public static TheoryData<string> BadKeys => new() { "", "a\tb", "a\u0001b", new string('k', 201) };

    [Theory]
    [MemberData(nameof(GoodKeys))]
    public void IdempotencyKeyIsRead(string key)
    {
        var (read, failures, errors) = ReadHeader(OrderHeaders.IdempotencyKey, key, simulationEnabled: false);

        Assert.Empty(errors);
        Assert.Equal((key, 0), (read, failures));
    }

    [Theory]
    [MemberData(nameof(BadKeys))]
    public void BadIdempotencyKeyIsRefusedNamingTheHeader(string key)
    {
        AssertRefused(OrderHeaders.IdempotencyKey, order: null, ReadHeader(OrderHeaders.IdempotencyKey, key).Errors);
    }

    [Fact]
    public void NoHeadersAreNoKeyAndNoSimulation()
    {
        var errors = new Dictionary<string, string[]>();

        Assert.Equal((null, 0), OrderRequestReader.ReadHeaders(Request(), simulationEnabled: true, errors));
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("3", 3)]
    [InlineData("100", 100)]
    [InlineData("permanent", FailureSimulationOptions.Permanent)]
    [InlineData("PERMANENT", FailureSimulationOptions.Permanent)]
    [InlineData("Hang", FailureSimulationOptions.Hang)]
    public void SimulatedFailuresAreReadWhenEnabled(string header, int failures)
    {
        var (_, read, errors) = ReadHeader(FailureSimulationOptions.HeaderName, header);

        Assert.Empty(errors);
        Assert.Equal(failures, read);
    }

    [Theory]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData(" 3")]
    [InlineData("three")]
    [InlineData("")]
    public void BadSimulationIsRefusedNamingTheHeader(string header)
    {
        AssertRefused(FailureSimulationOptions.HeaderName, order: null, ReadHeader(FailureSimulationOptions.HeaderName, header).Errors);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("nonsense")]
    public void SimulationIsIgnoredWhenNotEnabled(string header)
    {
        var (_, failures, errors) = ReadHeader(FailureSimulationOptions.HeaderName, header, simulationEnabled: false);

        Assert.Empty(errors);
        Assert.Equal(0, failures);
    }

    private static void AssertRefused(string field, NewOrder? order, Dictionary<string, string[]> errors)
    {
        Assert.Null(order);
        var (key, messages) = Assert.Single(errors);
        Assert.Equal(field, key);
        // The message names the field too: a client may show only the text.
        var named = field == "body" ? "body" : $"'{field}'";
        Assert.Contains(named, Assert.Single(messages), StringComparison.OrdinalIgnoreCase);
    }

    private static (string? Key, int Failures, Dictionary<string, string[]> Errors) ReadHeader(
        string name, string value, bool simulationEnabled = true)
    {
        var errors = new Dictionary<string, string[]>();
        var (key, failures) = OrderRequestReader.ReadHeaders(Request(headers: (name, value)), simulationEnabled, errors);
        return (key, failures, errors);
    }

    private static string Body(string product) =>
        $$"""{"product":{{System.Text.Json.JsonSerializer.Serialize(product)}},"quantity":1,"price":1}""";

    private static Task<(NewOrder? Order, Dictionary<string, string[]> Errors)> ReadAsync(
        string body, string? contentType = "application/json", bool declareLength = true, DateTimeOffset? now = null)
    {
        var request = Request(body, contentType);
        if (!declareLength)
        {
            request.ContentLength = null;
        }
        return OrderRequestReader.ReadAsync(request, default, now is { } at ? new FixedTime(at) : null);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static HttpRequest Request(string body = "", string? contentType = "application/json", params (string Name, string Value)[] headers)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new DefaultHttpContext().Request;
        request.Body = new MemoryStream(bytes);
        request.ContentLength = bytes.Length;
        request.ContentType = contentType;
        foreach (var (name, value) in headers)
        {
            request.Headers[name] = value;
        }
        return request;
    }
}
