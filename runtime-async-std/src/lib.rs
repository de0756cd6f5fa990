//! `async-io` + `futures-lite` adapter for [`sipxfer`]: an [`sipxfer::Endpoint`] over real
//! UDP and TCP sockets, under async-std, smol, or any executor (async-io's reactor drives the
//! sockets and timers).
//!
//! The runtime-neutral [`sipxfer_driver::Driver`] owns the endpoint, the sockets and one
//! timer; this crate only gives it `async-io`'s sockets and timer. [`bind`] runs the driver
//! on a thread of its own (`async_io::block_on`), so it works under any executor;
//! [`bind_driver`] returns it to spawn on yours (`smol::spawn(driver).detach()`,
//! `async_std::task::spawn(driver)`).
//!
//! ```no_run
//! use sipxfer::msg::Uri;
//! use sipxfer::{CallOptions, CallState, Event};
//! use sipxfer_async_std::Builder;
//!
//! # async fn run() -> std::io::Result<()> {
//! let (ua, mut events) = sipxfer_async_std::bind(Builder::new("127.0.0.1:5060".parse().unwrap())).await?;
//! let bob = Uri::parse("sip:bob@127.0.0.1:5062").unwrap();
//! // Our SDP offer (opaque to the stack; the peer's answer comes as `Event::RemoteSdp`).
//! let offer = sipxfer_async_std::demo::sdp("alice", ua.local_addr());
//! let options = CallOptions { offer: Some(offer), ..Default::default() };
//! let call = ua.call(bob, options).await.expect("call");
//! while let Some(e) = events.next().await {
//!     if let Event::CallState { state: CallState::Confirmed, .. } = e {
//!         ua.hangup(call).await.expect("hang up");
//!     }
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub use sipxfer_driver::{
    datagram, demo, Builder, Captured, Direction, Driver, Events, Handle, Options, Tap, Transports,
};

use async_io::Async;
use futures_lite::{AsyncRead, AsyncWrite};
use sipxfer_driver::io::{Connecting, ListenerIo, Runtime, StreamIo, TimerIo, UdpIo};
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Binds the sockets, runs the driver on a thread of its own and returns the endpoint's
/// handle and events.
pub async fn bind(builder: Builder) -> io::Result<(Handle, Events)> {
    let (handle, events, driver) = bind_driver(builder)?;
    std::thread::Builder::new()
        .name(format!("sipxfer {}", handle.local_addr()))
        .spawn(move || async_io::block_on(driver))?;
    Ok((handle, events))
}

/// Binds the sockets and returns the driver for the caller to spawn on its executor.
pub fn bind_driver(builder: Builder) -> io::Result<(Handle, Events, Driver)> {
    let sockets = builder.bind_std()?;
    let udp = match sockets.udp {
        Some(u) => Some(Box::new(Udp(Async::new(u)?)) as Box<dyn UdpIo>),
        None => None,
    };
    let tcp = match sockets.tcp {
        Some(l) => Some(Box::new(Listener(Async::new(l)?)) as Box<dyn ListenerIo>),
        None => None,
    };
    Ok(builder.build(sockets.local_addr, udp, tcp, Arc::new(AsyncIo)))
}

struct AsyncIo;

impl Runtime for AsyncIo {
    fn connect(&self, to: SocketAddr) -> Connecting {
        Box::pin(async move {
            let s = Async::<TcpStream>::connect(to).await?;
            s.get_ref().set_nodelay(true)?;
            Ok(Box::new(Stream(s)) as Box<dyn StreamIo>)
        })
    }

    fn timer(&self, at: std::time::Instant) -> Box<dyn TimerIo> {
        Box::new(Timer(async_io::Timer::at(at)))
    }
}

/// Retries a non-blocking call until it stops saying `WouldBlock`, waiting on `ready`.
fn retry<T>(
    cx: &mut Context<'_>,
    mut op: impl FnMut() -> io::Result<T>,
    mut ready: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
) -> Poll<io::Result<T>> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready!(ready(cx))?,
            r => return Poll::Ready(r),
        }
    }
}

struct Udp(Async<UdpSocket>);

impl UdpIo for Udp {
    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        retry(
            cx,
            || self.0.get_ref().recv_from(buf),
            |cx| self.0.poll_readable(cx),
        )
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        to: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        retry(
            cx,
            || self.0.get_ref().send_to(buf, to),
            |cx| self.0.poll_writable(cx),
        )
    }
}

struct Listener(Async<TcpListener>);

impl ListenerIo for Listener {
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn StreamIo>, SocketAddr)>> {
        let (s, remote) = ready!(retry(
            cx,
            || self.0.get_ref().accept(),
            |cx| self.0.poll_readable(cx)
        ))?;
        let _ = s.set_nodelay(true);
        Poll::Ready(Ok((Box::new(Stream(Async::new(s)?)), remote)))
    }
}

struct Stream(Async<TcpStream>);

impl StreamIo for Stream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().local_addr()
    }
}

struct Timer(async_io::Timer);

impl TimerIo for Timer {
    fn reset(&mut self, at: std::time::Instant) {
        self.0.set_at(at);
    }

    fn poll_fire(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}
