//! What the core knows of transports: their names, whether they are reliable, and the
//! [`Transmit`] it hands the runtime. Sockets and connections themselves live in the runtime.

use bytes::Bytes;
use core::net::SocketAddr;

/// A SIP transport (RFC 3261 §18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// UDP: unreliable, one message per datagram; the transaction layer retransmits.
    Udp,
    /// TCP: reliable stream framed by Content-Length.
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl Transport {
    /// Reliable transports skip retransmissions and zero the wait timers (RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// Stream transports deliver bytes through [`crate::Endpoint::handle_stream_bytes`].
    pub fn is_stream(self) -> bool {
        self.is_reliable()
    }

    /// The name in a Via header (`SIP/2.0/UDP`, §20.42).
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The transport a Via names, if the core knows it.
    pub fn from_via_name(name: &str) -> Option<Self> {
        [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .find(|t| t.via_name().eq_ignore_ascii_case(name))
    }
}

/// A stream connection, numbered by the runtime (the core never opens or closes sockets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// Where a message goes: a transport and an address, plus the connection to use for streams
/// when one is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Destination {
    /// The transport.
    pub transport: Transport,
    /// The remote address.
    pub addr: SocketAddr,
    /// For stream transports, the connection to write to; `None` asks the runtime to use (or
    /// open) a connection to `addr`.
    pub conn: Option<ConnId>,
}

impl Destination {
    /// UDP to `addr`.
    pub fn udp(addr: SocketAddr) -> Self {
        Destination {
            transport: Transport::Udp,
            addr,
            conn: None,
        }
    }

    /// TCP to `addr`, on any connection the runtime has to it.
    pub fn tcp(addr: SocketAddr) -> Self {
        Destination {
            transport: Transport::Tcp,
            addr,
            conn: None,
        }
    }
}

/// Where a received message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// The transport.
    pub transport: Transport,
    /// The peer's address (the datagram's source, or the connection's remote end).
    pub remote: SocketAddr,
    /// The local address it arrived on.
    pub local: SocketAddr,
    /// The connection, for stream transports.
    pub conn: Option<ConnId>,
}

impl Transmit {
    /// One message to `dest`, from `local` when it matters.
    pub(crate) fn new(dest: Destination, local: Option<SocketAddr>, bytes: Bytes) -> Self {
        Transmit {
            transport: dest.transport,
            local,
            to: dest.addr,
            conn: dest.conn,
            bytes,
            close_after: false,
        }
    }

    /// Nothing to send: close stream connection `conn` to `to`.
    pub(crate) fn close(
        transport: Transport,
        local: SocketAddr,
        to: SocketAddr,
        conn: ConnId,
    ) -> Self {
        Transmit {
            transport,
            local: Some(local),
            to,
            conn: Some(conn),
            bytes: Bytes::new(),
            close_after: true,
        }
    }
}

/// Bytes for the runtime to send: a datagram, or a write on a stream connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Transmit {
    /// The transport.
    pub transport: Transport,
    /// The local address to send from, when it matters (a response leaves from the address
    /// its request arrived on, RFC 3261 §18.2.2).
    pub local: Option<SocketAddr>,
    /// The remote address.
    pub to: SocketAddr,
    /// For streams: the connection to write to. `None`, or a connection that has closed
    /// meanwhile, means any connection to `to`, opening one if needed (RFC 3261 §18.2.2).
    pub conn: Option<ConnId>,
    /// One whole SIP message (empty only when `close_after` is set and nothing is to be sent).
    pub bytes: Bytes,
    /// For streams: close the connection after writing (the stream had an unrecoverable
    /// framing error, RFC 3261 §18.3).
    pub close_after: bool,
}

/// The bytes of `request`, one of ours, with its top Via's transport `from` changed to
/// `to` (RFC 3261 §18.1.1: "If a request is within 200 bytes of the path MTU, or if it is
/// larger than 1300 bytes and the path MTU is unknown, the request MUST be sent using an RFC
/// 2914 congestion controlled transport protocol, such as TCP. If this causes a change in the
/// transport protocol from the one indicated in the top Via, the value in the top Via MUST be
/// changed."). Our requests start with our Via as we write it (`Via: SIP/2.0/UDP `, the
/// first field after the request line); `None` when `request` does not (or the two names
/// differ in length, which `UDP`, `TCP` and `TLS` do not). A copy: the request's bytes may be
/// shared.
pub(crate) fn with_via_transport(request: &[u8], from: Transport, to: Transport) -> Option<Bytes> {
    let (old, new) = (from.via_name().as_bytes(), to.via_name().as_bytes());
    if old.len() != new.len() {
        return None;
    }
    // The request line ends at its first LF (§7.1: CRLF; we wrote it).
    let line = memchr::memchr(b'\n', request)? + 1;
    // The field as the emitter writes our Via (`Out::our_via`): its name, then the protocol.
    let rest = request
        .get(line..)?
        .strip_prefix(crate::msg::HeaderName::Via.field_start().as_bytes())?
        .strip_prefix(b"SIP/2.0/")?;
    if rest.strip_prefix(old)?.first() != Some(&b' ') {
        return None;
    }
    let at = request.len() - rest.len();
    let mut copy = alloc::vec::Vec::from(request);
    copy.get_mut(at..at + new.len())?.copy_from_slice(new);
    Some(Bytes::from(copy))
}

/// RFC 3261 §18.2.1 and RFC 3581 §4: the server transport adds `received` to the top Via of
/// a request whose sent-by host is not the packet's source address (`source`), and fills in
/// an empty `rport` with the source port (adding `received` then too). Done to the responses,
/// which copy the request's Via (§8.2.6.2) and are where a user agent's stamp shows, rather
/// than to every request on arrival: a retransmission that a transaction absorbs, or an ACK,
/// then costs no rewrite. Idempotent.
pub(crate) fn stamp_via(m: &mut crate::msg::Message, source: SocketAddr) {
    use crate::msg::Header;
    // Found and checked through shared references: a Via left as it is keeps the line it was
    // parsed from (`crate::msg::headers`).
    let Some(at) = m.headers.iter().position(|h| matches!(h, Header::Via(_))) else {
        return;
    };
    let Some(Header::Via(vias)) = m.headers.get(at) else {
        return;
    };
    let mut text = StampText::default();
    let Some((ip, port)) = vias
        .first()
        .and_then(|via| stamp_values(via, source, &mut text))
    else {
        return;
    };
    m.headers.edit(at, |h| {
        if let Header::Via(vias) = h {
            if let Some(via) = vias.first_mut() {
                with_stamp(ip, port, |set| via.params.set_all(set));
            }
        }
    });
}

/// The `received` address and `rport` value (empty when `rport` was not asked for)
/// [`stamp_via`] gives `via`, a request's top Via, for a request from `source`, written in
/// `text`; `None` when it leaves the Via as it is.
pub(crate) fn stamp_values<'t>(
    via: &crate::msg::Via<crate::SipStr>,
    source: SocketAddr,
    text: &'t mut StampText,
) -> Option<(&'t str, &'t str)> {
    let ip_len = stamp_text(via, source, text)?;
    Some(text.as_str().split_at(ip_len))
}

/// Calls `f` with the parameters the stamp sets: `received`, and `rport` when it has a value.
pub(crate) fn with_stamp<R>(ip: &str, port: &str, f: impl FnOnce(&[(&str, &str)]) -> R) -> R {
    if port.is_empty() {
        f(&[("received", ip)])
    } else {
        f(&[("received", ip), ("rport", port)])
    }
}

/// Would [`stamp_via`] change `m`?
pub(crate) fn needs_stamp(m: &crate::msg::Message, source: SocketAddr) -> bool {
    m.top_via()
        .is_some_and(|via| stamp_text(via, source, &mut Default::default()).is_some())
}

/// The text [`stamp_text`] writes, on the stack: an address and a port need at most 45 + 5
/// bytes (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255` and `65535`).
pub(crate) struct StampText {
    buf: [u8; 64],
    len: usize,
}

impl Default for StampText {
    fn default() -> Self {
        StampText {
            buf: [0; 64],
            len: 0,
        }
    }
}

impl StampText {
    /// Appends ASCII text (an address, a number written by the emitter); text that is not
    /// ASCII, or that does not fit, is not written (neither happens).
    fn push_ascii(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        if let (true, Some(dst)) = (b.is_ascii(), self.buf.get_mut(self.len..end)) {
            dst.copy_from_slice(b);
            self.len = end;
        }
    }

    /// Bytes written so far.
    fn len(&self) -> usize {
        self.len
    }

    /// The text.
    #[inline]
    #[allow(unsafe_code)]
    fn as_str(&self) -> &str {
        let b = self.buf.get(..self.len).unwrap_or_default();
        debug_assert!(b.is_ascii());
        // SAFETY: `push_ascii`, the only writer, writes ASCII only, and ASCII is UTF-8.
        unsafe { core::str::from_utf8_unchecked(b) }
    }
}

impl core::fmt::Write for StampText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let before = self.len;
        self.push_ascii(s.as_bytes());
        if self.len == before && !s.is_empty() {
            return Err(core::fmt::Error);
        }
        Ok(())
    }
}

/// The `received` address then the `rport` value (empty when `rport` was not asked for)
/// written to `text` — written on the stack: an address and a port need no allocation — and
/// where the address ends; `None` when the Via needs neither.
fn stamp_text(
    via: &crate::msg::Via<crate::SipStr>,
    source: SocketAddr,
    text: &mut StampText,
) -> Option<usize> {
    use crate::msg::Host;
    use core::net::IpAddr;
    let ip = source.ip();
    let host_is_source = match &via.host {
        Host::Ipv4(a) => IpAddr::V4(*a) == ip,
        Host::Ipv6(a) => IpAddr::V6(*a) == ip,
        Host::Domain(_) => false,
    };
    let rport_asked = via.rport_asked();
    if host_is_source && !rport_asked {
        // The common case (the peer's own address, no `rport`): nothing to write.
        return None;
    }
    match ip {
        IpAddr::V4(a) => text.push_ascii(crate::msg::emit::ipv4_text(a, &mut [0; 15])),
        IpAddr::V6(a) => {
            use core::fmt::Write;
            let _ = write!(text, "{a}");
        }
    }
    let ip_len = text.len();
    // A `received` already right (a response stamped before) needs nothing more.
    if !rport_asked && via.received() == Some(text.as_str()) {
        return None;
    }
    if rport_asked {
        let port = u64::from(source.port());
        text.push_ascii(crate::msg::emit::decimal(port, &mut [0; 20]));
    }
    Some(ip_len)
}

#[cfg(test)]
mod tests {
    use super::{with_via_transport, Transport};

    #[test]
    fn the_top_via_we_wrote_changes_transport_and_nothing_else() {
        let udp =
            b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
            Via: SIP/2.0/UDP p;branch=z9hG4bK0\r\nContent-Length: 0\r\n\r\n";
        let tcp = with_via_transport(udp, Transport::Udp, Transport::Tcp).unwrap();
        assert_eq!(
            &tcp[..],
            &b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
            Via: SIP/2.0/UDP p;branch=z9hG4bK0\r\nContent-Length: 0\r\n\r\n"[..]
        );
        let back = with_via_transport(&tcp, Transport::Tcp, Transport::Udp).unwrap();
        assert_eq!(&back[..], &udp[..]);
    }

    #[test]
    fn anything_else_is_left_alone() {
        for m in [
            // Not our Via first, another transport, a longer name, no start line.
            &b"INVITE sip:b@h SIP/2.0\r\nMax-Forwards: 70\r\nVia: SIP/2.0/UDP h\r\n\r\n"[..],
            b"INVITE sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP h\r\n\r\n",
            b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n",
            b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDPX h\r\n\r\n",
            b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UD",
            b"Via: SIP/2.0/UDP h\r\n",
            b"",
        ] {
            assert_eq!(with_via_transport(m, Transport::Udp, Transport::Tcp), None);
        }
    }
}
