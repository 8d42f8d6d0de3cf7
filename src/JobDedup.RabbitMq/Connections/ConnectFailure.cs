using RabbitMQ.Client.Exceptions;

namespace JobDedup.RabbitMq.Connections;

/// <summary>Why a connection to the broker could not be opened, read from what the client threw.</summary>
internal enum ConnectFailureKind
{
    /// <summary>The broker cannot be reached now (down, a port nothing listens on, a lent connection that is recovering): worth trying again.</summary>
    Unreachable,

    /// <summary>The broker answered and refused the user name or password (ACCESS_REFUSED).</summary>
    CredentialsRefused,

    /// <summary>Anything else: a setting the broker does not accept (a protocol, a queue declared otherwise).</summary>
    Other,
}

/// <summary>Classifies a failure to connect and says it in plain words; pure, so that each case is tested on its own.</summary>
internal static class ConnectFailure
{
    public static ConnectFailureKind Classify(Exception exception)
    {
        for (Exception? ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is AuthenticationFailureException or PossibleAuthenticationFailureException)
            {
                return ConnectFailureKind.CredentialsRefused;
            }

            if (ex is ProtocolVersionMismatchException)
            {
                return ConnectFailureKind.Other;
            }
        }

        return exception is BrokerUnreachableException or ConnectFailureException or AlreadyClosedException
            or System.Net.Sockets.SocketException or IOException or TimeoutException
            ? ConnectFailureKind.Unreachable
            : ConnectFailureKind.Other;
    }

    /// <summary>
    /// Why the connection failed, as one clause: for refused credentials it names the user and the setting to fix (the
    /// client's own message says only that no endpoint was reachable); otherwise the client's message.
    /// </summary>
    public static string Reason(Exception exception, ConnectionSource source) => Classify(exception) == ConnectFailureKind.CredentialsRefused
        ? $"the broker at {source.Broker} refused the credentials of {(source.User is { Length: > 0 } user ? $"user '{user}'" : "the connecting user")} " +
          $"(ACCESS_REFUSED); check the user name and password in {source.Setting}"
        : exception.Message;
}
