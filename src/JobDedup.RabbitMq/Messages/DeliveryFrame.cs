using RabbitMQ.Client;

namespace JobDedup.RabbitMq;

/// <summary>A <c>basic.deliver</c> as the client hands it over: valid only for the length of its callback.</summary>
/// <param name="DeliveryTag">The broker's tag for it on its channel.</param>
/// <param name="Redelivered">Whether the broker delivered it before.</param>
/// <param name="Exchange">The exchange it was published to.</param>
/// <param name="RoutingKey">The routing key it was published with.</param>
/// <param name="Properties">Its properties (the client's buffer).</param>
/// <param name="Body">Its body (the client's buffer).</param>
internal readonly record struct DeliveryFrame(
    ulong DeliveryTag,
    bool Redelivered,
    string Exchange,
    string RoutingKey,
    IReadOnlyBasicProperties Properties,
    ReadOnlyMemory<byte> Body);
