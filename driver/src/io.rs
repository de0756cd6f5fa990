//! What a runtime supplies: poll-based sockets and a timer. Both adapters implement these
//! few methods over their own types (tokio's, or `async-io`'s); everything else is written
//! once, in [`crate::Driver`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A bound UDP socket.
pub trait UdpIo: Send + Sync + 'static {
    /// Receives one datagram into `buf`: its length and source. `Pending` registers the
    /// waker for readability.
    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>>;

    /// Sends one datagram. `Pending` registers the waker for writability.
    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        to: SocketAddr,
    ) -> Poll<io::Result<usize>>;
}

/// A TCP listener.
pub trait ListenerIo: Send + Sync + 'static {
    /// Accepts one connection: the stream and the peer's address.
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn StreamIo>, SocketAddr)>>;
}

/// A connected TCP stream.
pub trait StreamIo: Send + 'static {
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes from `buf`, returning how much was written.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;

    /// The local end of the connection.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A timer that can be moved.
pub trait TimerIo: Send + 'static {
    /// Fires at `at` instead.
    fn reset(&mut self, at: std::time::Instant);

    /// `Ready` once the deadline has passed.
    fn poll_fire(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// A connection being opened.
pub type Connecting = Pin<Box<dyn Future<Output = io::Result<Box<dyn StreamIo>>> + Send>>;

/// The runtime's services the driver needs besides the sockets it is given.
pub trait Runtime: Send + Sync + 'static {
    /// Opens a TCP connection to `to`.
    fn connect(&self, to: SocketAddr) -> Connecting;

    /// A timer firing at `at`.
    fn timer(&self, at: std::time::Instant) -> Box<dyn TimerIo>;
}
