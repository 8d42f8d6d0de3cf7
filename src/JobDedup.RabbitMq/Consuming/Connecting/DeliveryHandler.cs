using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Consuming.Settling;

namespace JobDedup.RabbitMq.Consuming.Connecting;

/// <summary>Takes a delivery in, inside the client's callback.</summary>
/// <param name="window">The ack window of the channel it arrived on.</param>
/// <param name="tally">The count of unsettled deliveries of the queue it came from.</param>
/// <param name="frame">The delivery; its buffers stay valid only until the returned task completes.</param>
/// <returns>A task the client waits for before it hands over the next delivery of the channel.</returns>
internal delegate Task DeliveryHandler(AckWindow window, QueueTally tally, in DeliveryFrame frame);
