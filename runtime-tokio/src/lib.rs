//! Tokio adapter for [`sipxfer`]: an [`sipxfer::Endpoint`] over real UDP and TCP sockets.
//!
//! One task owns the endpoint, the UDP socket, the TCP listener and connections and one
//! sleep to the endpoint's next deadline (the runtime-neutral [`sipxfer_driver::Driver`]);
//! this crate only gives it tokio's sockets and timer. [`bind`] spawns it and returns a
//! cloneable [`Handle`] for commands and the [`Events`] stream. See [`sipxfer_driver`] for
//! what happens when events are not read, and for shutdown.
//!
//! ```no_run
//! use sipxfer::msg::Uri;
//! use sipxfer::{CallOptions, CallState, Event};
//! use sipxfer_tokio::Builder;
//!
//! # async fn run() -> std::io::Result<()> {
//! let (ua, mut events) = sipxfer_tokio::bind(Builder::new("127.0.0.1:5060".parse().unwrap())).await?;
//! let bob = Uri::parse("sip:bob@127.0.0.1:5062").unwrap();
//! // Our SDP offer (opaque to the stack; the peer's answer comes as `Event::RemoteSdp`).
//! let offer = sipxfer_tokio::demo::sdp("alice", ua.local_addr());
//! let options = CallOptions { offer: Some(offer), ..Default::default() };
//! let call = ua.call(bob, options).await.expect("call");
//! while let Some(e) = events.next().await {
//!     if let Event::CallState { call: c, state: CallState::Confirmed, .. } = e {
//!         assert_eq!(c, call);
//!         ua.hangup(call).await.expect("hang up");
//!     }
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub use sipxfer_driver::{
    datagram, demo, Builder, Captured, Direction, Driver, Events, Handle, Options, Tap, Transports,
};

use sipxfer_driver::io::{Connecting, ListenerIo, Runtime, StreamIo, TimerIo, UdpIo};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Binds the sockets, spawns the driver on the current tokio runtime and returns the
/// endpoint's handle and events.
pub async fn bind(builder: Builder) -> io::Result<(Handle, Events)> {
    let (handle, events, driver) = bind_driver(builder)?;
    tokio::spawn(driver);
    Ok((handle, events))
}

/// Binds the sockets and returns the driver for the caller to spawn (inside a tokio
/// runtime).
pub fn bind_driver(builder: Builder) -> io::Result<(Handle, Events, Driver)> {
    let sockets = builder.bind_std()?;
    let udp = match sockets.udp {
        Some(u) => Some(Box::new(Udp(tokio::net::UdpSocket::from_std(u)?)) as Box<dyn UdpIo>),
        None => None,
    };
    let tcp = match sockets.tcp {
        Some(l) => {
            Some(Box::new(Listener(tokio::net::TcpListener::from_std(l)?)) as Box<dyn ListenerIo>)
        }
        None => None,
    };
    Ok(builder.build(sockets.local_addr, udp, tcp, Arc::new(Tokio)))
}

struct Tokio;

impl Runtime for Tokio {
    fn connect(&self, to: SocketAddr) -> Connecting {
        Box::pin(async move {
            let s = tokio::net::TcpStream::connect(to).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(Stream(s)) as Box<dyn StreamIo>)
        })
    }

    fn timer(&self, at: std::time::Instant) -> Box<dyn TimerIo> {
        Box::new(Timer(Box::pin(tokio::time::sleep_until(at.into()))))
    }
}

struct Udp(tokio::net::UdpSocket);

impl UdpIo for Udp {
    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let mut rb = ReadBuf::new(buf);
        self.0
            .poll_recv_from(cx, &mut rb)
            .map_ok(|from| (rb.filled().len(), from))
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        to: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.0.poll_send_to(cx, buf, to)
    }
}

struct Listener(tokio::net::TcpListener);

impl ListenerIo for Listener {
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn StreamIo>, SocketAddr)>> {
        self.0.poll_accept(cx).map_ok(|(s, remote)| {
            let _ = s.set_nodelay(true);
            (Box::new(Stream(s)) as Box<dyn StreamIo>, remote)
        })
    }
}

struct Stream(tokio::net::TcpStream);

impl StreamIo for Stream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut rb = ReadBuf::new(buf);
        Pin::new(&mut self.0)
            .poll_read(cx, &mut rb)
            .map_ok(|()| rb.filled().len())
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

struct Timer(Pin<Box<tokio::time::Sleep>>);

impl TimerIo for Timer {
    fn reset(&mut self, at: std::time::Instant) {
        self.0.as_mut().reset(at.into());
    }

    fn poll_fire(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}
