namespace GpuNet.Tests;

/// <summary>Answers requests with a function and records their addresses.</summary>
internal sealed class FakeHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
{
    public List<Uri> Requests { get; } = [];

    public static FakeHandler Unreachable() =>
        new(r => throw new HttpRequestException($"The test forbids the network (requested {r.RequestUri})."));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (Requests) Requests.Add(request.RequestUri!);
        return Task.FromResult(respond(request));
    }
}
