using JobDedup.AspNetCore.Execution;
using JobDedup.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace JobDedup.AspNetCore;

/// <summary>
/// Makes a controller action (or every action of a controller) idempotent with a registered option set
/// (<c>services.AddIdempotency(...)</c>): the first request with a key runs the action; a repeat gets its response
/// again, a repeat sent while it runs waits for it, and a different request under the same key is refused with 422.
/// On an action it takes the place of one on its controller.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class IdempotentAttribute : Attribute, IFilterFactory
{
    /// <summary>Initializes a new instance of the <see cref="IdempotentAttribute"/> class with the default option set.</summary>
    public IdempotentAttribute()
        : this(string.Empty)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="IdempotentAttribute"/> class with a named option set.</summary>
    /// <param name="policy">The option set's name, as given to <c>AddIdempotency(name, ...)</c>.</param>
    public IdempotentAttribute(string policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Policy = policy;
    }

    /// <summary>Gets the name of the option set; empty for the default one.</summary>
    public string Policy { get; }

    /// <inheritdoc/>
    public bool IsReusable => true;

    /// <inheritdoc/>
    public IFilterMetadata CreateInstance(IServiceProvider serviceProvider) =>
        new IdempotencyResourceFilter(this, IdempotentEndpoint.Create(serviceProvider, Policy, configure: null));
}
