using System.Net.Sockets;
using System.Text;

namespace Kata3.Bench;

/// <summary>
/// One keep-alive HTTP/1.1 connection that sends a ready-made request and reads the answer's
/// status, skipping its body (Content-Length or chunked). It costs less CPU than HttpClient, with
/// inline socket completions (bench/common.sh sets them): CPU the app being measured gets back.
/// </summary>
internal sealed class HttpConnection : IDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] ChunkedEnd = "\r\n0\r\n\r\n"u8.ToArray();
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[16 * 1024];

    private HttpConnection(Socket socket) => _socket = socket;

    public static async Task<HttpConnection> OpenAsync(Uri url)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(url.Host, url.Port);
            return new HttpConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends the request and returns the answer's status code once the whole answer is read.</summary>
    public async Task<int> SendAsync(ReadOnlyMemory<byte> request)
    {
        await _socket.SendAsync(request);
        var filled = 0;
        int headerLength;
        while ((headerLength = _buffer.AsSpan(0, filled).IndexOf(HeaderEnd)) < 0)
        {
            filled += await ReceiveAsync(filled);
        }
        headerLength += HeaderEnd.Length;

        var headers = Encoding.ASCII.GetString(_buffer, 0, headerLength);
        if (!headers.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || !int.TryParse(headers.AsSpan(9, 3), out var status))
        {
            throw new InvalidDataException($"Not an HTTP/1.1 answer: {headers.Split('\r')[0]}");
        }
        if (ContentLength(headers) is { } length)
        {
            while (filled < headerLength + length)
            {
                filled += await ReceiveAsync(filled);
            }
        }
        else if (headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            // The answer is small; only its final zero-length chunk needs to be seen.
            while (!_buffer.AsSpan(headerLength - 2, filled - headerLength + 2).EndsWith(ChunkedEnd))
            {
                filled += await ReceiveAsync(filled);
            }
        }
        return status;
    }

    private async Task<int> ReceiveAsync(int filled)
    {
        if (filled == _buffer.Length)
        {
            throw new InvalidDataException("The answer is larger than the buffer.");
        }
        var received = await _socket.ReceiveAsync(_buffer.AsMemory(filled), SocketFlags.None);
        return received > 0 ? received : throw new IOException("The server closed the connection.");
    }

    private static int? ContentLength(string headers)
    {
        foreach (var line in headers.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    public void Dispose() => _socket.Dispose();
}
