namespace JobDedup.WebApi;

/// <summary>One row of the products table.</summary>
/// <param name="Id">The product id.</param>
/// <param name="Name">The product name.</param>
/// <param name="Price">The price.</param>
internal sealed record Product(int Id, string Name, decimal Price);
