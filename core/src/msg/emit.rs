//! Serialisation into canonical form: full header names, `Name: value`, one CRLF per header
//! line, multi-values joined with `", "`, and a correct `Content-Length` always present
//! (RFC 3261 §7.3.1, §20.14). Emitting never fails and never panics.

use super::header::{Contact, NameAddr, Values};
use super::param::Params;
use super::uri::{Host, Uri};
use super::{Header, Message, StartLine};
use crate::text::Text;
use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

/// Where emission writes.
pub(crate) trait Sink {
    fn put(&mut self, b: &[u8]);
}

impl Sink for BytesMut {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.put_slice(b);
    }
}

impl<W: Sink> core::fmt::Write for Out<'_, W> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.put(s.as_bytes());
        Ok(())
    }
}

/// [`Message::to_bytes`]'s buffer: 1 KiB of stack (what small targets can spare), which
/// every message a UA sends fits but for INVITEs and 2xx with large SDP bodies.
const SCRATCH: usize = 1024;
type Scratch = smallvec::SmallVec<[u8; SCRATCH]>;

impl Sink for Scratch {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// An output buffer with the few writers emission needs.
pub(crate) struct Out<'b, W: Sink = BytesMut>(pub(crate) &'b mut W);

impl<W: Sink> Out<'_, W> {
    #[inline]
    fn s(&mut self, s: &str) {
        self.0.put(s.as_bytes());
    }

    #[inline]
    fn b(&mut self, c: u8) {
        self.0.put(&[c]);
    }

    fn num(&mut self, mut n: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.0.put(&buf[i..]);
    }

    fn params<S: Text>(&mut self, ps: &Params<S>) {
        ps.write_canonical(&mut |x| self.0.put(x.as_bytes()));
    }

    fn host<S: Text>(&mut self, h: &Host<S>) {
        match h {
            Host::Domain(d) => self.s(d.as_ref()),
            Host::Ipv4(a) => {
                let o = a.octets();
                for (k, x) in o.iter().enumerate() {
                    if k > 0 {
                        self.b(b'.');
                    }
                    self.num(*x as u64);
                }
            }
            Host::Ipv6(a) => {
                use core::fmt::Write;
                self.b(b'[');
                let _ = write!(self, "{a}");
                self.b(b']');
            }
        }
    }

    /// `hostport = host [ ":" port ]`
    fn hostport<S: Text>(&mut self, h: &Host<S>, port: Option<u16>) {
        self.host(h);
        if let Some(p) = port {
            self.b(b':');
            self.num(p as u64);
        }
    }

    pub(crate) fn uri<S: Text>(&mut self, u: &Uri<S>) {
        match u {
            Uri::Sip(u) => {
                self.s(if u.secure { "sips:" } else { "sip:" });
                if let Some(user) = &u.user {
                    self.s(user.as_ref());
                    if let Some(pw) = &u.password {
                        self.b(b':');
                        self.s(pw.as_ref());
                    }
                    self.b(b'@');
                }
                self.hostport(&u.host, u.port);
                self.params(&u.params);
                if !u.headers.is_empty() {
                    self.b(b'?');
                    u.headers.write_canonical(&mut |x| self.0.put(x.as_bytes()));
                }
            }
            Uri::Tel(t) => {
                self.s("tel:");
                self.s(t.number.as_ref());
                self.params(&t.params);
            }
            Uri::Other { scheme, opaque } => {
                self.s(scheme.as_ref());
                self.b(b':');
                self.s(opaque.as_ref());
            }
        }
    }

    /// Always in name-addr form (`<uri>`), so URI parameters and header parameters can never
    /// be confused.
    pub(crate) fn name_addr<S: Text>(&mut self, a: &NameAddr<S>) {
        if let Some(d) = &a.display {
            self.s(d.as_ref());
            self.b(b' ');
        }
        self.b(b'<');
        self.uri(&a.uri);
        self.b(b'>');
        self.params(&a.params);
    }

    fn list<T>(&mut self, v: &Values<T>, mut f: impl FnMut(&mut Self, &T)) {
        for (k, x) in v.iter().enumerate() {
            if k > 0 {
                self.s(", ");
            }
            f(self, x);
        }
    }

    fn header<S: Text>(&mut self, h: &Header<S>) {
        match h {
            Header::Extension { name, .. } => self.s(name.as_ref()),
            _ => self.s(h.name().as_str()),
        }
        self.b(b':');
        let empty = matches!(h,
            Header::Supported(v) | Header::Unsupported(v) | Header::Require(v)
            | Header::ProxyRequire(v) | Header::AllowEvents(v) if v.is_empty())
            || matches!(h, Header::Allow(v) if v.is_empty())
            || matches!(h, Header::Accept(v) if v.is_empty())
            || matches!(h, Header::Raw { value, .. } | Header::Extension { value, .. }
                if value.as_ref().is_empty());
        if !empty {
            self.b(b' ');
        }
        match h {
            Header::Via(v) => self.list(v, |o, via| {
                o.s(via.protocol.as_ref());
                o.b(b'/');
                o.s(via.version.as_ref());
                o.b(b'/');
                o.s(via.transport.as_ref());
                o.b(b' ');
                o.hostport(&via.host, via.port);
                o.params(&via.params);
            }),
            Header::From(a) | Header::To(a) | Header::ReferTo(a) | Header::ReferredBy(a) => {
                self.name_addr(a)
            }
            Header::CallId(s) => self.s(s.as_ref()),
            Header::CSeq(c) => {
                self.num(c.seq as u64);
                self.b(b' ');
                self.s(c.method.as_str());
            }
            Header::MaxForwards(n) => self.num(*n as u64),
            Header::Expires(n) => self.num(*n as u64),
            Header::Contact(Contact::Star) => self.b(b'*'),
            Header::Contact(Contact::Addrs(v)) | Header::Route(v) | Header::RecordRoute(v) => {
                self.list(v, |o, a| o.name_addr(a))
            }
            Header::ContentType(m) => {
                self.s(m.ty.as_ref());
                self.b(b'/');
                self.s(m.subtype.as_ref());
                self.params(&m.params);
            }
            Header::Require(v)
            | Header::ProxyRequire(v)
            | Header::Supported(v)
            | Header::Unsupported(v)
            | Header::AllowEvents(v) => self.list(v, |o, t| o.s(t.as_ref())),
            Header::Allow(v) => self.list(v, |o, m| o.s(m.as_str())),
            Header::Accept(v) => self.list(v, |o, m| {
                o.s(m.ty.as_ref());
                o.b(b'/');
                o.s(m.subtype.as_ref());
                o.params(&m.params);
            }),
            Header::Event(e) => {
                self.s(e.package.as_ref());
                self.params(&e.params);
            }
            Header::SubscriptionState(s) => {
                self.s(s.state.as_ref());
                self.params(&s.params);
            }
            Header::Replaces(r) => {
                self.s(r.call_id.as_ref());
                self.params(&r.params);
            }
            Header::ReferSub(r) => {
                self.s(if r.value { "true" } else { "false" });
                self.params(&r.params);
            }
            Header::TargetDialog(t) => {
                self.s(t.call_id.as_ref());
                self.params(&t.params);
            }
            Header::Reason(v) => self.list(v, |o, r| {
                o.s(r.protocol.as_ref());
                o.params(&r.params);
            }),
            Header::Warning(v) => self.list(v, |o, w| {
                o.num(w.code as u64);
                o.b(b' ');
                o.s(w.agent.as_ref());
                o.b(b' ');
                o.s(w.text.as_ref());
            }),
            Header::RetryAfter(r) => {
                self.num(r.seconds as u64);
                if let Some(c) = &r.comment {
                    self.b(b' ');
                    self.s(c.as_ref());
                }
                self.params(&r.params);
            }
            Header::Raw { value, .. } | Header::Extension { value, .. } => self.s(value.as_ref()),
        }
        self.s("\r\n");
    }

    fn start<S: Text>(&mut self, s: &StartLine<S>) {
        match s {
            StartLine::Request { method, uri } => {
                self.s(method.as_str());
                self.b(b' ');
                self.uri(uri);
                self.s(" SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                self.s("SIP/2.0 ");
                self.num(*code as u64);
                self.b(b' ');
                self.s(reason.as_ref());
                self.s("\r\n");
            }
        }
    }
}

impl<S: Text> Message<S> {
    /// Appends the message in canonical form to `out`.
    ///
    /// ```
    /// use sipxfer::msg::Message;
    /// let wire = b"OPTIONS sip:b@example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
    ///     f: <sip:a@example.com>;tag=1\r\nt: sip:b@example.com\r\ni: c1\r\nCSeq: 1 OPTIONS\r\n\r\n";
    /// let m = Message::parse(bytes::Bytes::from_static(wire), &Default::default()).unwrap();
    /// assert_eq!(&m.to_bytes()[..], &b"OPTIONS sip:b@example.com SIP/2.0\r\n\
    ///     Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n\
    ///     To: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"[..]);
    /// ```
    pub fn emit(&self, out: &mut BytesMut) {
        out.reserve(self.size_estimate());
        self.emit_to(&mut Out(out));
    }

    /// Room for the emitted message: ~80 bytes a header line is generous for what a UA
    /// sends (a Via, a name-addr with tag), and the body is known.
    fn size_estimate(&self) -> usize {
        128 + 80 * self.headers.len() + self.body.as_ref().len()
    }

    fn emit_to<W: Sink>(&self, o: &mut Out<'_, W>) {
        let body = self.body.as_ref();
        o.start(&self.start);
        for h in &self.headers {
            o.header(h);
        }
        o.s("Content-Length: ");
        o.num(body.len() as u64);
        o.s("\r\n\r\n");
        o.0.put(body);
    }

    /// The message in canonical form.
    pub fn to_bytes(&self) -> Bytes {
        // One allocation of the exact size: written on the stack first, then copied once; a
        // message kept for retransmission then holds no spare capacity. A message that may
        // not fit is written to the heap directly.
        let estimate = self.size_estimate();
        if estimate > SCRATCH {
            let mut out = BytesMut::with_capacity(estimate);
            self.emit_to(&mut Out(&mut out));
            return out.freeze();
        }
        let mut out = Scratch::new();
        self.emit_to(&mut Out(&mut out));
        Bytes::copy_from_slice(&out)
    }

    /// Emits the message as a `message/sipfrag` body (RFC 3420): start line and headers, no
    /// Content-Length, and the empty line + body only when there is a body.
    pub fn emit_sipfrag(&self, out: &mut BytesMut) {
        let mut o = Out(out);
        o.start(&self.start);
        for h in &self.headers {
            o.header(h);
        }
        let body = self.body.as_ref();
        if !body.is_empty() {
            o.s("\r\n");
            Sink::put(o.0, body);
        }
    }
}

/// A URI in canonical text form.
pub fn uri_to_string<S: Text>(u: &Uri<S>) -> alloc::string::String {
    let mut b = BytesMut::new();
    Out(&mut b).uri(u);
    alloc::string::String::from_utf8(Vec::from(&b[..])).unwrap_or_default()
}

/// A header line's value as it would be emitted (without name and CRLF).
pub fn header_value_to_string<S: Text>(h: &Header<S>) -> alloc::string::String {
    let mut b = BytesMut::new();
    Out(&mut b).header(h);
    let s = alloc::string::String::from_utf8(Vec::from(&b[..])).unwrap_or_default();
    let name_len = match h {
        Header::Extension { name, .. } => name.as_ref().len(),
        _ => h.name().as_str().len(),
    };
    s.get(name_len + 1..)
        .unwrap_or("")
        .trim_start_matches(' ')
        .trim_end_matches("\r\n")
        .into()
}

/// The canonical text form (as [`uri_to_string`]): `sip:carol@192.0.2.3;transport=tcp`.
impl<S: Text> core::fmt::Display for Uri<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&uri_to_string(self))
    }
}
