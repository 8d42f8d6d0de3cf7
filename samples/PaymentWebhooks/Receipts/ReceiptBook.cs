using System.Security.Cryptography;
using JobDedup;
using PaymentWebhooks.Ledger;

namespace PaymentWebhooks.Receipts;

/// <summary>
/// The receipts of accepted webhook deliveries, in memory and bounded: when full, the oldest is dropped.
/// </summary>
internal sealed class ReceiptBook(int capacity)
{
    private readonly Dictionary<string, LinkedListNode<Receipt>> _receipts = new(StringComparer.Ordinal);
    private readonly LinkedList<Receipt> _byAge = new();
    private readonly Lock _sync = new();
    private int _pending;

    /// <summary>Gets how many receipts are kept.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _receipts.Count;
            }
        }
    }

    /// <summary>Gets how many kept receipts still wait for their outcome.</summary>
    public int Pending
    {
        get
        {
            lock (_sync)
            {
                return _pending;
            }
        }
    }

    /// <summary>Opens a pending receipt, before the delivery is published, so that its outcome always finds it.</summary>
    /// <param name="eventId">The event id.</param>
    /// <param name="acceptedAt">The time.</param>
    /// <returns>The receipt.</returns>
    public Receipt Open(string eventId, DateTimeOffset acceptedAt)
    {
        var receipt = new Receipt($"rcpt_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}", eventId, acceptedAt, ReceiptStatus.Pending);
        lock (_sync)
        {
            while (_receipts.Count >= capacity && _byAge.First is { } oldest)
            {
                Remove(oldest);
            }

            _receipts.Add(receipt.Id, _byAge.AddLast(receipt));
            _pending++;
        }

        return receipt;
    }

    /// <summary>Records a pending receipt's outcome.</summary>
    /// <param name="id">The receipt id.</param>
    /// <param name="status">Succeeded or Failed.</param>
    /// <param name="role">How the delivery got its answer.</param>
    /// <param name="charge">The ledger entry, when succeeded.</param>
    /// <param name="error">Why it failed, when failed.</param>
    /// <returns><see langword="false"/> when the receipt is unknown (dropped, or from before a restart) or already complete.</returns>
    public bool Complete(string id, ReceiptStatus status, JobRole? role, Charge? charge, string? error)
    {
        lock (_sync)
        {
            if (!_receipts.TryGetValue(id, out var node) || node.Value.Status != ReceiptStatus.Pending)
            {
                return false;
            }

            node.Value = node.Value with { Status = status, Role = role, Charge = charge, Error = error };
            _pending--;
            return true;
        }
    }

    /// <summary>Removes a receipt whose delivery could not be published.</summary>
    /// <param name="id">The receipt id.</param>
    public void Discard(string id)
    {
        lock (_sync)
        {
            if (_receipts.TryGetValue(id, out var node))
            {
                Remove(node);
            }
        }
    }

    /// <summary>Finds a receipt.</summary>
    /// <param name="id">The receipt id.</param>
    /// <returns>The receipt, or <see langword="null"/>.</returns>
    public Receipt? Find(string id)
    {
        lock (_sync)
        {
            return _receipts.TryGetValue(id, out var node) ? node.Value : null;
        }
    }

    private void Remove(LinkedListNode<Receipt> node)
    {
        _receipts.Remove(node.Value.Id);
        _byAge.Remove(node);
        if (node.Value.Status == ReceiptStatus.Pending)
        {
            _pending--;
        }
    }
}
