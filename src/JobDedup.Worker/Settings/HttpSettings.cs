namespace JobDedup.Worker.Settings;

/// <summary>The worker's HTTP face: health probes, Prometheus metrics and the live dashboard, on one Kestrel listener.</summary>
public sealed class HttpSettings
{
    /// <summary>Gets or sets a value indicating whether the worker listens for HTTP at all.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets the address listened on: an IP address (<c>0.0.0.0</c> or <c>::</c> for every interface) or
    /// <c>localhost</c>.
    /// </summary>
    /// <value>The default is <c>127.0.0.1</c>: only this machine can connect.</value>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Gets or sets the TCP port; 0 lets the system choose a free one (the log names it).</summary>
    /// <value>The default is 8089.</value>
    public int Port { get; set; } = 8089;

    /// <summary>Gets or sets a value indicating whether <c>/metrics</c> serves the metrics in Prometheus' text format.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Metrics { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the dashboard (<c>/</c> and <c>/api/stats</c>) is served.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Dashboard { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the dashboard lists the hottest keys in flight, keys included. Keys can
    /// be personal data (an email address, an order of a named customer): turn this on only where showing them is allowed.
    /// </summary>
    /// <value>The default is <see langword="false"/>: no key ever leaves the worker through HTTP.</value>
    public bool ShowKeys { get; set; }

    /// <summary>Gets or sets how many of the hottest keys the dashboard lists when <see cref="ShowKeys"/> is on.</summary>
    /// <value>The default is 10.</value>
    public int HottestKeys { get; set; } = 10;

    /// <summary>Gets or sets how far back the dashboard's charts go (one sample a second is kept for that long).</summary>
    /// <value>The default is 10 minutes.</value>
    public TimeSpan History { get; set; } = TimeSpan.FromMinutes(10);
}
