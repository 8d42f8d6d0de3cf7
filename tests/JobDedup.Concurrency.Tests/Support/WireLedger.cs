using System.Reflection;
using JobDedup.RabbitMq.Consuming.Acking;
using Microsoft.Coyote.Specifications;
using RabbitMQ.Client;

namespace JobDedup.Concurrency.Tests.Support;

/// <summary>
/// A channel, made with <see cref="DispatchProxy"/>, that checks every ack and nack as it would reach the broker: a
/// frame settles only deliveries of the channel's current generation that are still outstanding on the wire, an ack
/// covers only deliveries whose settlement asked for it, and nothing is settled twice. While the channel is down
/// (between a connection loss and the recovery), every write fails, as the client's does.
/// </summary>
public class WireLedger : DispatchProxy
{
    private readonly object _gate = new();
    private readonly Dictionary<ulong, Delivery> _outstanding = [];
    private readonly List<string> _frames = [];
    private bool _down;
    private int _generation;

    /// <summary>Gets every frame written, in order.</summary>
    public IReadOnlyList<string> Frames
    {
        get
        {
            lock (_gate)
            {
                return [.. _frames];
            }
        }
    }

    /// <summary>Gets how many deliveries of the current generation the broker still counts as unacknowledged.</summary>
    public int Outstanding
    {
        get
        {
            lock (_gate)
            {
                return _outstanding.Count;
            }
        }
    }

    /// <summary>Creates the channel and its ledger.</summary>
    internal static (IChannel Channel, WireLedger Ledger) Create()
    {
        var channel = DispatchProxy.Create<IChannel, WireLedger>();
        return (channel, (WireLedger)(object)channel);
    }

    /// <summary>The broker sends <paramref name="delivery"/> on the current generation of the channel.</summary>
    internal void Send(Delivery delivery)
    {
        lock (_gate)
        {
            Specification.Assert(!_down, "a delivery arrived on a channel that is down");
            Specification.Assert(_outstanding.TryAdd(delivery.DeliveryTag, delivery), "tag {0} was sent twice in one generation", delivery.DeliveryTag);
        }
    }

    /// <summary>The connection drops: the broker takes every outstanding delivery back and writes fail.</summary>
    public void GoDown()
    {
        lock (_gate)
        {
            _down = true;
            _outstanding.Clear();
            _generation++;
        }
    }

    /// <summary>The client recovered the channel: tags start again at 1.</summary>
    public void Recover()
    {
        lock (_gate)
        {
            _down = false;
        }
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var tag = (ulong)args![0]!;
        lock (_gate)
        {
            if (_down)
            {
                return ValueTask.FromException(new InvalidOperationException("the channel is down"));
            }

            switch (targetMethod!.Name)
            {
                case nameof(IChannel.BasicAckAsync) when (bool)args[1]!:
                    var covered = _outstanding.Keys.Where(t => t <= tag).Order().ToList();
                    Specification.Assert(covered.Count > 0, "a multiple ack up to {0} covered nothing (generation {1})", tag, _generation);
                    foreach (var t in covered)
                    {
                        var state = _outstanding[t].State;
                        Specification.Assert(state == DeliveryState.Acked, "a multiple ack up to {0} covered tag {1}, which is {2}", tag, t, state);
                        _outstanding.Remove(t);
                    }

                    _frames.Add($"ack {tag} multiple");
                    break;

                case nameof(IChannel.BasicAckAsync):
                    Settle(tag, DeliveryState.Acked, "ack");
                    _frames.Add($"ack {tag} single");
                    break;

                case nameof(IChannel.BasicNackAsync):
                    Settle(tag, DeliveryState.Requeued, "nack");
                    _frames.Add($"nack {tag}");
                    break;

                default:
                    throw new NotSupportedException(targetMethod.Name);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Settle(ulong tag, DeliveryState wanted, string frame)
    {
        Specification.Assert(_outstanding.Remove(tag, out var delivery), "a {0} of tag {1} settled nothing outstanding (generation {2})", frame, tag, _generation);
        Specification.Assert(delivery!.State == wanted, "a {0} of tag {1} reached a delivery that is {2}", frame, tag, delivery.State);
    }
}
