using System.Net.Sockets;
using JobDedup.RabbitMq.Connections;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace JobDedup.RabbitMq.Tests.Connections;

/// <summary>How a failure to connect is classified and said; the decision the consumer's start and retries act on.</summary>
public sealed class ConnectFailureTests
{
    private static readonly ConnectionSource Source = new RabbitMqPublisherOptions { ConnectionUri = "amqp://app:secret@rabbit.example:5672/" }
        .CreateSource(services: null, "publisher");

    [Fact]
    public void Classify_AuthenticationFailureInsideBrokerUnreachable_IsCredentialsRefused()
    {
        var failure = new BrokerUnreachableException(new AuthenticationFailureException("ACCESS_REFUSED - Login was refused"));

        Assert.Equal(ConnectFailureKind.CredentialsRefused, ConnectFailure.Classify(failure));
    }

    [Fact]
    public void Classify_PossibleAuthenticationFailure_IsCredentialsRefused()
    {
        var failure = new BrokerUnreachableException(new PossibleAuthenticationFailureException("the broker closed the connection during login"));

        Assert.Equal(ConnectFailureKind.CredentialsRefused, ConnectFailure.Classify(failure));
    }

    [Fact]
    public void Classify_ConnectionRefused_IsUnreachable()
    {
        var failure = new BrokerUnreachableException(new SocketException((int)SocketError.ConnectionRefused));

        Assert.Equal(ConnectFailureKind.Unreachable, ConnectFailure.Classify(failure));
    }

    [Fact]
    public void Classify_ALentConnectionThatIsClosedNow_IsUnreachable()
    {
        var failure = new AlreadyClosedException(new ShutdownEventArgs(ShutdownInitiator.Library, 541, "connection lost"));

        Assert.Equal(ConnectFailureKind.Unreachable, ConnectFailure.Classify(failure));
    }

    [Fact]
    public void Classify_ProtocolMismatch_IsNeitherUnreachableNorCredentials()
    {
        var failure = new BrokerUnreachableException(new ProtocolVersionMismatchException(0, 9, 1, 0));

        Assert.Equal(ConnectFailureKind.Other, ConnectFailure.Classify(failure));
    }

    [Fact]
    public void Classify_AMissingServiceForUseConnection_IsOther()
    {
        Assert.Equal(ConnectFailureKind.Other, ConnectFailure.Classify(new InvalidOperationException("No service for type 'IConnection' has been registered.")));
    }

    [Fact]
    public void Reason_RefusedCredentials_NamesTheUserTheSettingAndHidesThePassword()
    {
        var reason = ConnectFailure.Reason(new BrokerUnreachableException(new AuthenticationFailureException("ACCESS_REFUSED")), Source);

        Assert.Equal(
            "the broker at amqp://app:***@rabbit.example:5672/ refused the credentials of user 'app' (ACCESS_REFUSED); " +
            "check the user name and password in the option ConnectionUri",
            reason);
    }

    [Fact]
    public void Reason_AnythingElse_IsTheClientsOwnMessage()
    {
        var failure = new BrokerUnreachableException(new SocketException((int)SocketError.ConnectionRefused));

        Assert.Equal(failure.Message, ConnectFailure.Reason(failure, Source));
    }
}
