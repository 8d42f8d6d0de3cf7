namespace JobDedup.Worker.Settings;

/// <summary>Export of the worker's metrics and traces over OTLP to an OpenTelemetry collector.</summary>
public sealed class OtlpSettings
{
    /// <summary>Gets or sets the collector's address, such as <c>http://127.0.0.1:4317</c> (gRPC) or <c>http://127.0.0.1:4318</c> (HTTP).</summary>
    /// <value>The default is <see langword="null"/>: nothing is exported over OTLP.</value>
    public string? Endpoint { get; set; }

    /// <summary>Gets or sets the wire protocol: <c>Grpc</c> or <c>HttpProtobuf</c>.</summary>
    /// <value>The default is <c>Grpc</c>.</value>
    public OtlpWireProtocol Protocol { get; set; } = OtlpWireProtocol.Grpc;

    /// <summary>Gets or sets how often metrics are exported.</summary>
    /// <value>The default is 15 seconds.</value>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(15);
}
