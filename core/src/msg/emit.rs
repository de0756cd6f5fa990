//! Serialisation into canonical form: full header names, `Name: value`, one CRLF per header
//! line, multi-values joined with `", "`, and a correct `Content-Length` always present
//! (RFC 3261 §7.3.1, §20.14). Emitting never fails and never panics.

use super::header::{Contact, NameAddr};
use super::param::{Params, ViaParams};
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

/// The blocks the messages a transaction repeats until it ends are cut from (see
/// [`crate::Config::send_block`]).
///
/// Such a message is kept by its transaction for retransmission (RFC 3261 §17.1.1.2,
/// §17.2.1) and handed to the runtime, so it is one reference-counted buffer with two owners.
/// Written to a buffer of its own, that costs two allocations per message (the buffer and,
/// at the first clone, its reference count); cut from a shared block of `size` bytes, it
/// costs none while the block has room, and two per block. A block is freed when the last
/// message cut from it is, so only messages of one lifetime (64·T1 after a final response)
/// share blocks: a short-lived message among them would be kept that long. `size` 0 gives
/// each message its exact-size buffer of its own.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    current: BytesMut,
    size: usize,
}

impl Blocks {
    /// Blocks of `size` bytes (0: none).
    pub fn new(size: usize) -> Self {
        Blocks {
            current: BytesMut::new(),
            size,
        }
    }

    /// Does a message of `len` bytes get a buffer of its own rather than a cut of a block?
    /// Yes without blocks, and for a large one (a big SDP body) that would waste most of a
    /// block.
    pub(crate) fn gives_own(&self, len: usize) -> bool {
        self.size == 0 || len > self.size / 2
    }

    /// `head` then `body`, cut from the current block (see [`Message::to_bytes_in`]).
    fn cut(&mut self, head: &[u8], body: &[u8]) -> Bytes {
        let need = head.len() + body.len();
        if self.gives_own(need) {
            return own_buffer(head, body);
        }
        let out = &mut self.current;
        if out.capacity() - out.len() < need && !out.try_reclaim(need) {
            // The old block lives on in the messages cut from it, and is freed with the
            // last of them.
            *out = BytesMut::with_capacity(self.size);
        }
        out.extend_from_slice(head);
        out.extend_from_slice(body);
        out.split().freeze()
    }
}

/// `head` then `body` in a buffer of their own, of their exact size (a message kept for
/// retransmission then holds no spare capacity).
fn own_buffer(head: &[u8], body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(head.len() + body.len());
    out.extend_from_slice(head);
    out.extend_from_slice(body);
    out.freeze()
}

impl Clone for Blocks {
    /// A fresh set of blocks of the same size: what was cut from the current one stays with
    /// its messages.
    fn clone(&self) -> Self {
        Blocks::new(self.size)
    }
}

/// A fixed buffer on the stack: a write is a bounds check and a copy (emission makes a few
/// dozen small writes per header, so what each costs matters more than anything else here).
/// What does not fit marks it `full`, and the caller writes the message again on the heap.
struct Scratch {
    buf: [u8; SCRATCH],
    len: usize,
    full: bool,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            buf: [0; SCRATCH],
            len: 0,
            full: false,
        }
    }

    fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl Sink for Scratch {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        let end = self.len.saturating_add(b.len());
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                copy(dst, b);
                self.len = end;
            }
            None => self.full = true,
        }
    }
}

/// `dst.copy_from_slice(src)` (same lengths), with the short pieces emission writes (a
/// separator, a name, a tag: almost all under 32 bytes) copied inline as two overlapping
/// fixed-size moves instead of a call to `memcpy`.
#[inline(always)]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if dst.len() != n {
        return;
    }
    macro_rules! two {
        ($k:literal) => {{
            dst[..$k].copy_from_slice(&src[..$k]);
            dst[n - $k..].copy_from_slice(&src[n - $k..]);
        }};
    }
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => two!(4),
        8..=15 => two!(8),
        16..=32 => two!(16),
        _ => dst.copy_from_slice(src),
    }
}

/// Two decimal digits per entry, `00` to `99`.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// `n` in decimal, written at the end of `buf` (20 digits hold any `u64`), two digits a step.
#[inline]
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut pair = |i: &mut usize, d: usize| {
        *i -= 2;
        buf[*i] = PAIRS[2 * d];
        buf[*i + 1] = PAIRS[2 * d + 1];
    };
    while n >= 100 {
        let d = (n % 100) as usize;
        n /= 100;
        pair(&mut i, d);
    }
    if n >= 10 {
        pair(&mut i, n as usize);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    &buf[i..]
}

/// Each octet's decimal digits, padded to four bytes, and how many there are: writing an
/// address is four table lookups and four fixed-size copies, no division.
static OCTETS: [([u8; 4], u8); 256] = {
    let mut t = [([0u8; 4], 0u8); 256];
    let mut x = 0;
    while x < 256 {
        let (h, d, o) = ((x / 100) as u8, (x / 10 % 10) as u8, (x % 10) as u8);
        t[x] = if x >= 100 {
            ([b'0' + h, b'0' + d, b'0' + o, 0], 3)
        } else if x >= 10 {
            ([b'0' + d, b'0' + o, 0, 0], 2)
        } else {
            ([b'0' + o, 0, 0, 0], 1)
        };
        x += 1;
    }
    t
};

/// `a` in dotted decimal at the start of `wide` (19 bytes at least: the last octet's
/// padding lies past the text); the text's length.
#[inline]
fn ipv4_into(a: core::net::Ipv4Addr, wide: &mut [u8]) -> usize {
    // Each octet's four padded bytes go in at once; the next octet's overwrite the padding.
    let mut len = 0;
    for (k, x) in a.octets().into_iter().enumerate() {
        let (digits, n) = OCTETS[usize::from(x)];
        if k > 0 {
            if let Some(dot) = wide.get_mut(len) {
                *dot = b'.';
            }
            len += 1;
        }
        if let Some(dst) = wide.get_mut(len..len + 4) {
            dst.copy_from_slice(&digits);
        }
        len += usize::from(n);
    }
    len
}

/// `a` in dotted decimal, written whole on the stack (`255.255.255.255` at most): one copy
/// into the output instead of seven small ones.
#[inline]
pub(crate) fn ipv4_text(a: core::net::Ipv4Addr, text: &mut [u8; 15]) -> &[u8] {
    let mut wide = [0u8; 19];
    let len = ipv4_into(a, &mut wide);
    text.copy_from_slice(&wide[..15]);
    text.get(..len).unwrap_or_default()
}

/// A short piece of output put together on the stack (an address and its port, a number and
/// the space after it), so that it goes out in one write rather than three.
struct Piece {
    buf: [u8; 32],
    len: usize,
}

impl Piece {
    fn new() -> Self {
        Piece {
            buf: [0; 32],
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            copy(dst, b);
            self.len = end;
        }
    }

    #[inline]
    fn num(&mut self, n: u64) {
        let mut digits = [0u8; 20];
        self.push(decimal(n, &mut digits));
    }

    fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
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

    fn num(&mut self, n: u64) {
        let mut buf = [0u8; 20];
        self.0.put(decimal(n, &mut buf));
    }

    fn params<S: Text>(&mut self, ps: &Params<S>) {
        ps.write_canonical(&mut |x| self.0.put(x.as_bytes()));
    }

    fn via_params<S: Text>(&mut self, ps: &ViaParams<S>) {
        ps.write_canonical(&mut |x| self.0.put(x.as_bytes()));
    }

    fn host<S: Text>(&mut self, h: &Host<S>) {
        match h {
            Host::Domain(d) => self.s(d.as_ref()),
            Host::Ipv4(a) => {
                let mut text = [0u8; 15];
                self.0.put(ipv4_text(*a, &mut text));
            }
            Host::Ipv6(a) => {
                use core::fmt::Write;
                self.b(b'[');
                let _ = write!(self, "{a}");
                self.b(b']');
            }
        }
    }

    /// `hostport = host [ ":" port ]`: an IPv4 address and its port in one write, a
    /// domain and `:port` in two.
    fn hostport<S: Text>(&mut self, h: &Host<S>, port: Option<u16>) {
        let mut piece = Piece::new();
        match h {
            Host::Ipv4(a) => piece.len = ipv4_into(*a, &mut piece.buf),
            _ => self.host(h),
        }
        if let Some(p) = port {
            piece.push(b":");
            piece.num(u64::from(p));
        }
        if piece.len > 0 {
            self.0.put(piece.written());
        }
    }

    pub(crate) fn uri<S: Text>(&mut self, u: &Uri<S>) {
        self.uri_after(u, "");
    }

    /// `lead` (`<` in a name-addr) and the URI, the lead written with the scheme.
    fn uri_after<S: Text>(&mut self, u: &Uri<S>, lead: &str) {
        match u {
            Uri::Sip(u) => {
                self.s(match (lead.is_empty(), u.secure) {
                    (true, false) => "sip:",
                    (true, true) => "sips:",
                    (false, false) => "<sip:",
                    (false, true) => "<sips:",
                });
                let user: &str = u.user.as_ref();
                if !user.is_empty() {
                    self.s(user);
                    if let Some(pw) = &u.password {
                        self.b(b':');
                        self.s((**pw).as_ref());
                    }
                    self.b(b'@');
                }
                self.hostport(&u.host, u.port);
                self.params(&u.params);
                if !u.headers.as_str().is_empty() && !u.headers.is_empty() {
                    self.b(b'?');
                    u.headers.write_canonical(&mut |x| self.0.put(x.as_bytes()));
                }
            }
            Uri::Tel(t) => {
                self.s(lead);
                self.s("tel:");
                self.s(t.number.as_ref());
                self.params(&t.params);
            }
            Uri::Other { scheme, opaque } => {
                self.s(lead);
                self.s(scheme.as_ref());
                self.b(b':');
                self.s(opaque.as_ref());
            }
        }
    }

    /// Always in name-addr form (`<uri>`), so URI parameters and header parameters can never
    /// be confused.
    pub(crate) fn name_addr<S: Text>(&mut self, a: &NameAddr<S>) {
        let d: &str = a.display.as_ref();
        if !d.is_empty() {
            self.s(d);
            self.b(b' ');
        }
        self.uri_after(&a.uri, "<");
        self.b(b'>');
        self.params(&a.params);
    }

    fn list<T>(&mut self, v: &[T], mut f: impl FnMut(&mut Self, &T)) {
        for (k, x) in v.iter().enumerate() {
            if k > 0 {
                self.s(", ");
            }
            f(self, x);
        }
    }

    /// `sent-protocol LWS sent-by` of a Via (RFC 3261 §20.42), its parameters left to the
    /// caller.
    fn via_head<S: Text>(&mut self, via: &super::Via<S>) {
        // `sent-protocol LWS`: the usual ones in one write.
        let usual = (via.protocol.as_ref(), via.version.as_ref()) == ("SIP", "2.0");
        match (usual, via.transport.as_ref()) {
            (true, "UDP") => self.s("SIP/2.0/UDP "),
            (true, "TCP") => self.s("SIP/2.0/TCP "),
            (true, "TLS") => self.s("SIP/2.0/TLS "),
            (true, "WSS") => self.s("SIP/2.0/WSS "),
            _ => {
                self.s(via.protocol.as_ref());
                self.b(b'/');
                self.s(via.version.as_ref());
                self.b(b'/');
                self.s(via.transport.as_ref());
                self.b(b' ');
            }
        }
        self.hostport(&via.host, via.port);
    }

    /// A header field: the line it was parsed from while unchanged, written back as it came
    /// (see [`super::headers`]), else rendered.
    #[inline]
    fn entry<S: Text>(&mut self, list: &super::Headers<S>, e: &super::headers::Entry<S>) {
        match list.line_of(e) {
            Some(line) => {
                self.s(line);
                self.s("\r\n");
            }
            None => self.header(&e.header),
        }
    }

    fn header<S: Text>(&mut self, h: &Header<S>) {
        let empty = matches!(h,
            Header::Supported(v) | Header::Unsupported(v) | Header::Require(v)
            | Header::ProxyRequire(v) if v.is_empty())
            || matches!(h, Header::AllowEvents(v) if v.is_empty())
            || matches!(h, Header::Allow(v) if v.is_empty())
            || matches!(h, Header::Accept(v) if v.is_empty())
            || matches!(h, Header::Raw { value, .. } | Header::Extension { value, .. }
                if value.as_ref().is_empty());
        match h {
            Header::Extension { name, .. } => {
                self.s(name.as_ref());
                self.s(if empty { ":" } else { ": " });
            }
            _ => {
                let start = h.name().field_start();
                // An empty value: `Name:` (no space before the CRLF).
                let n = start.len().saturating_sub(usize::from(empty));
                self.s(start.get(..n).unwrap_or(start));
            }
        }
        match h {
            Header::Via(v) => self.list(v, |o, via| {
                o.via_head(via);
                o.via_params(&via.params);
            }),
            Header::From(a) | Header::To(a) | Header::ReferTo(a) | Header::ReferredBy(a) => {
                self.name_addr(a)
            }
            Header::CallId(s) => self.s(s.as_ref()),
            Header::CSeq(c) => {
                let mut piece = Piece::new();
                piece.num(u64::from(c.seq));
                piece.push(b" ");
                self.0.put(piece.written());
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
            | Header::Unsupported(v) => self.list(v, |o, t| o.s(t.as_ref())),
            Header::AllowEvents(v) => self.list(v, |o, t| o.s(t.as_ref())),
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
                // `warn-code = 3DIGIT` (RFC 3261 §20.43): `091` parses as 91 and goes out
                // as `091` again.
                if w.code < 100 {
                    o.s(if w.code < 10 { "00" } else { "0" });
                }
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

    #[inline]
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
    /// Appends the message to `out`: the start line, each header field as the line it was
    /// parsed from while unchanged ([`super::Headers`]) or else in canonical form (full name,
    /// `": "`, the typed value rendered), Content-Length from the body, the body.
    ///
    /// ```
    /// use sipxfer::msg::Message;
    /// let wire = b"OPTIONS sip:b@example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
    ///     f: <sip:a@example.com>;tag=1\r\nt: sip:b@example.com\r\ni: c1\r\nCSeq: 1 OPTIONS\r\n\r\n";
    /// let mut m = Message::parse(bytes::Bytes::from_static(wire), &Default::default()).unwrap();
    /// assert_eq!(&m.to_bytes()[..], &b"OPTIONS sip:b@example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
    ///     f: <sip:a@example.com>;tag=1\r\nt: sip:b@example.com\r\ni: c1\r\nCSeq: 1 OPTIONS\r\n\
    ///     Content-Length: 0\r\n\r\n"[..]);
    /// m.headers.forget_lines();
    /// assert_eq!(&m.to_bytes()[..], &b"OPTIONS sip:b@example.com SIP/2.0\r\n\
    ///     Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n\
    ///     To: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"[..]);
    /// ```
    pub fn emit(&self, out: &mut BytesMut) {
        let body = self.body.as_ref();
        let mut head = Scratch::new();
        if self.head_on_stack(&mut head) {
            out.reserve(head.len + body.len());
            out.extend_from_slice(head.written());
            out.extend_from_slice(body);
            return;
        }
        out.reserve(self.size_estimate());
        self.emit_to(&mut Out(out));
    }

    /// Room for the emitted message: ~80 bytes a header line is generous for what a UA
    /// sends (a Via, a name-addr with tag), and the body is known.
    fn size_estimate(&self) -> usize {
        128 + 80 * self.headers.len() + self.body.as_ref().len()
    }

    /// Start line and header lines, through the empty line that ends them: where emission
    /// makes its many small writes.
    fn emit_head<W: Sink>(&self, o: &mut Out<'_, W>) {
        o.start(&self.start);
        for e in self.headers.entries() {
            o.entry(&self.headers, e);
        }
        o.s("Content-Length: ");
        o.num(self.body.as_ref().len() as u64);
        o.s("\r\n\r\n");
    }

    fn emit_to<W: Sink>(&self, o: &mut Out<'_, W>) {
        self.emit_head(o);
        o.0.put(self.body.as_ref());
    }

    /// Writes the head to the stack buffer `s`; false if it does not fit there (the head of
    /// every message a UA sends does; the body, however large, is copied in one piece after
    /// it).
    fn head_on_stack(&self, s: &mut Scratch) -> bool {
        self.emit_head(&mut Out(s));
        !s.full
    }

    /// The message as [`Message::emit`] writes it.
    pub fn to_bytes(&self) -> Bytes {
        // One allocation of the exact size: the head written on the stack first, then head
        // and body copied once; a message kept for retransmission then holds no spare
        // capacity. A head that does not fit is written to the heap directly.
        let mut head = Scratch::new();
        if self.head_on_stack(&mut head) {
            self.exact(&head)
        } else {
            self.on_heap()
        }
    }

    /// Head (written in `head`) and body in one buffer of their exact size.
    fn exact(&self, head: &Scratch) -> Bytes {
        own_buffer(head.written(), self.body.as_ref())
    }

    /// A message whose head does not fit on the stack, written to the heap directly.
    fn on_heap(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.size_estimate().max(2 * SCRATCH));
        self.emit_to(&mut Out(&mut out));
        out.freeze()
    }

    /// The message as [`Message::emit`] writes it, cut from `blocks` (see [`Blocks`]): the same bytes as
    /// [`Message::to_bytes`], without an allocation of its own while the current block has
    /// room.
    pub(crate) fn to_bytes_in(&self, blocks: &mut Blocks) -> Bytes {
        if blocks.size == 0 {
            return self.to_bytes();
        }
        let mut head = Scratch::new();
        if !self.head_on_stack(&mut head) {
            return self.on_heap();
        }
        blocks.cut(head.written(), self.body.as_ref())
    }

    /// Emits the message as a `message/sipfrag` body (RFC 3420): start line and headers, no
    /// Content-Length, and the empty line + body only when there is a body.
    pub fn emit_sipfrag(&self, out: &mut BytesMut) {
        let mut o = Out(out);
        o.start(&self.start);
        for e in self.headers.entries() {
            o.entry(&self.headers, e);
        }
        let body = self.body.as_ref();
        if !body.is_empty() {
            o.s("\r\n");
            Sink::put(o.0, body);
        }
    }
}

impl Message {
    /// The response with status `code` to this request, written straight from the request's
    /// fields: its Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2, and Timestamp in a 100,
    /// §8.2.6.1) each as the line it came in, but the top Via stamped with `received` and
    /// `rport` for a request from `source` (RFC 3581 §4, §18.2.1) and a To without a tag given
    /// `to_tag` (§8.2.6.2); then what `tail` adds. These are the bytes
    /// [`super::builder::response_in`], [`crate::transport::stamp_via`], the fields of `tail`
    /// pushed in its order and [`Message::to_bytes`] (with `blocks`:
    /// [`Message::to_bytes_in`]) give, without building the response: for the responses the
    /// endpoint sends on its own (to a BYE, a NOTIFY, a CANCEL, its 2xx to an INVITE, ...).
    /// `None` when the head does not fit on the stack: build the message then.
    pub(crate) fn plain_response(
        &self,
        code: u16,
        to_tag: Option<&str>,
        tail: &Tail<'_>,
        source: core::net::SocketAddr,
        blocks: Option<&mut Blocks>,
    ) -> Option<Bytes> {
        use super::builder::{copied_to_response, reason_phrase};
        let mut head = Scratch::new();
        let mut o = Out(&mut head);
        o.start(&StartLine::<&str>::Response {
            code,
            reason: reason_phrase(code),
        });
        // The first Via field is the one stamped; the first To without a tag takes `to_tag`.
        let mut first_via = true;
        let mut to_tag = to_tag;
        for e in self.headers.entries() {
            let h = &e.header;
            if !copied_to_response(h, code) {
                continue;
            }
            match h {
                Header::Via(vias) if first_via => {
                    first_via = false;
                    let mut text = crate::transport::StampText::default();
                    let stamp = vias
                        .first()
                        .and_then(|v| crate::transport::stamp_values(v, source, &mut text));
                    let Some((ip, port)) = stamp else {
                        o.entry(&self.headers, e);
                        continue;
                    };
                    o.s(super::HeaderName::Via.field_start());
                    for (k, via) in vias.iter().enumerate() {
                        if k > 0 {
                            o.s(", ");
                        }
                        o.via_head(via);
                        if k == 0 {
                            crate::transport::with_stamp(ip, port, |set| {
                                via.params.write_set(set, &mut |x| o.s(x))
                            });
                        } else {
                            o.via_params(&via.params);
                        }
                    }
                    o.s("\r\n");
                }
                Header::To(to) if to.tag().is_none() => match to_tag.take() {
                    // The To rendered with `tag` pushed on its parameters, as the response
                    // built would hold it, without the copy and the push: the parameters
                    // written in canonical form are what the push leaves before the tag.
                    Some(tag) => {
                        o.s(super::HeaderName::To.field_start());
                        o.name_addr(to);
                        o.s(";tag=");
                        o.s(tag);
                        o.s("\r\n");
                    }
                    None => o.entry(&self.headers, e),
                },
                _ => o.entry(&self.headers, e),
            }
        }
        if tail.record_route {
            for h in self.headers.iter() {
                if matches!(h, Header::RecordRoute(_)) {
                    o.header(h);
                }
            }
        }
        if let Some(ua) = tail.server {
            o.header(&Header::Raw {
                name: super::HeaderName::Server,
                value: ua.clone(),
            });
        }
        for h in tail.extra {
            o.header(h);
        }
        o.s("Content-Length: ");
        o.num(tail.body.len() as u64);
        o.s("\r\n\r\n");
        if head.full {
            return None;
        }
        Some(match blocks {
            Some(b) => b.cut(head.written(), tail.body),
            None => own_buffer(head.written(), tail.body),
        })
    }
}

/// Our Via on a request we send (RFC 3261 §8.1.1.7: a branch of our own; RFC 3581 §3:
/// `rport` asked for): `SIP/2.0/<transport> <address>:<port>;branch=<branch>;rport`, the
/// field `Endpoint::push_via` builds from the same parts.
pub(crate) struct OurVia<'a> {
    /// The transport the request goes over.
    pub transport: crate::Transport,
    /// Our address (`Config::local_addr`).
    pub addr: core::net::SocketAddr,
    /// The branch (`z9hG4bK` and random token characters).
    pub branch: &'a str,
}

impl OurVia<'_> {
    /// Its field, as a message holds it.
    pub(crate) fn field(&self) -> Header<crate::text::SipStr> {
        let mut v = super::Values::new();
        v.push(super::Via::new(
            self.transport.via_name(),
            host_of(self.addr.ip()),
            Some(self.addr.port()),
            self.branch,
        ));
        Header::Via(v)
    }
}

/// What a request within a dialog carries besides the dialog's own fields
/// ([`crate::dialog::Dialog::request_bytes`]).
pub(crate) struct InDialog<'a> {
    /// The method.
    pub method: super::Method<crate::text::SipStr>,
    /// A Contact (a NOTIFY's, RFC 6665 §4.2.2; a REFER's, RFC 3515 §2.4 — where one is
    /// sent).
    pub contact: Option<&'a crate::msg::NameAddr<crate::text::SipStr>>,
    /// More fields, after the Contact (a NOTIFY's Event, Subscription-State, Content-Type; a
    /// REFER's Refer-To, Referred-By, Refer-Sub).
    pub fields: &'a [Header<crate::text::SipStr>],
    /// The body.
    pub body: &'a [u8],
}

/// The host part of a Via or URI naming `ip`.
fn host_of<S: Text>(ip: core::net::IpAddr) -> Host<S> {
    match ip {
        core::net::IpAddr::V4(a) => Host::Ipv4(a),
        core::net::IpAddr::V6(a) => Host::Ipv6(a),
    }
}

impl<W: Sink> Out<'_, W> {
    /// The line of [`OurVia::field`], as emission writes it (its branch a token: the
    /// parameters `Via::new` writes are then `;branch=<branch>;rport`).
    fn our_via(&mut self, via: &OurVia<'_>) {
        self.s(super::HeaderName::Via.field_start());
        self.s("SIP/2.0/");
        self.s(via.transport.via_name());
        self.b(b' ');
        self.hostport(&host_of::<&str>(via.addr.ip()), Some(via.addr.port()));
        self.s(";branch=");
        self.s(via.branch);
        self.s(";rport\r\n");
    }
}

impl crate::dialog::Dialog {
    /// The ACK of a 2xx to our INVITE (RFC 3261 §13.2.2.4: a request within the dialog,
    /// §12.2.1.1, with the INVITE's CSeq number `seq`) under `via`, written straight from the
    /// dialog: the bytes [`Dialog::request_in`](crate::dialog::Dialog::request_in) (Request-URI
    /// and Route by loose or strict routing, Max-Forwards, From, To, Call-ID, CSeq), `via`'s
    /// field on top and [`Message::to_bytes`] give, without building the request. A buffer of
    /// its own, as `to_bytes` gives: the call keeps it for as long as the 2xx may come again
    /// (see `ack_in`).
    /// `None` when the head does not fit on the stack or the branch is not a token: build the
    /// request then.
    pub(crate) fn ack_bytes(&self, seq: u32, via: &OurVia<'_>) -> Option<Bytes> {
        let mut head = Scratch::new();
        if !self.head_in(&mut head, "ACK", seq, via) {
            return None;
        }
        head.put(b"Content-Length: 0\r\n\r\n");
        (!head.full).then(|| own_buffer(head.written(), &[]))
    }

    /// A request within the dialog (RFC 3261 §12.2.1.1: a BYE, §15.1.1; a NOTIFY of a
    /// subscription the dialog holds, RFC 6665 §4.2.2; a REFER, RFC 3515 §2.4; a SUBSCRIBE
    /// that refreshes or ends a refer subscription, RFC 6665 §4.1.2) under `via`,
    /// written straight from the dialog as [`Dialog::ack_bytes`] writes the ACK, and cut
    /// from `blocks` as [`Message::to_bytes_in`] cuts a built request: what
    /// `Dialog::request_in` with our Via on top, `r`'s fields after the dialog's and its body
    /// give, with CSeq number `seq`, without building it. `None` when it cannot be written
    /// so (see [`Dialog::ack_bytes`]): build the request then.
    ///
    /// [`Dialog::ack_bytes`]: crate::dialog::Dialog::ack_bytes
    pub(crate) fn request_bytes(
        &self,
        r: &InDialog<'_>,
        seq: u32,
        via: &OurVia<'_>,
        blocks: &mut Blocks,
    ) -> Option<Bytes> {
        written(r, blocks, |head| {
            self.head_in(head, r.method.as_str(), seq, via)
        })
    }

    /// The start line and the dialog's fields of a request `method` in the dialog (our Via,
    /// Max-Forwards, Route, From, To, Call-ID, CSeq: `Dialog::request_in`'s order), into
    /// `head`: false when they do not fit or the branch is not a token.
    fn head_in(&self, head: &mut Scratch, method: &str, seq: u32, via: &OurVia<'_>) -> bool {
        let loose = self
            .route_set
            .first()
            .is_none_or(|r| r.uri_param("lr").is_some());
        // Strict routing: the first route is the Request-URI, the remote target the last
        // Route.
        let (uri, routes) = match self.route_set.split_first() {
            Some((first, rest)) if !loose => (&first.uri, rest),
            _ => (&self.remote_target, &self.route_set[..]),
        };
        let parties = Parties {
            from: &self.local,
            to: &self.remote,
            call_id: self.id.call_id.as_str(),
        };
        let last = (!loose).then_some(&self.remote_target);
        write_head(head, method, uri, routes, last, &parties, seq, via)
    }
}

/// Who a request is from and to, and its Call-ID (RFC 3261 §8.1.1.2–§8.1.1.4): a dialog's
/// (§12.2.1.1), or those of the INVITE that starts a call ([`request_bytes`]).
pub(crate) struct Parties<'a> {
    /// From, with our tag.
    pub from: &'a NameAddr<crate::text::SipStr>,
    /// To (its URI the Request-URI, §8.1.1.1).
    pub to: &'a NameAddr<crate::text::SipStr>,
    /// Call-ID.
    pub call_id: &'a str,
}

/// A request outside any dialog (RFC 3261 §8.1.1: an INVITE that starts a call, §13.2.1) to
/// `p.to`'s URI under `via`, written straight from its parts as
/// [`crate::dialog::Dialog::request_bytes`] writes one within a dialog: what
/// `RequestBuilder` (Max-Forwards 70, From, To, Call-ID, CSeq `seq`, then `r`'s Contact and
/// fields in order) with our Via on top and `r`'s body gives, without building it. `None`
/// when it cannot be written so: build the request then.
pub(crate) fn request_bytes(
    p: &Parties<'_>,
    r: &InDialog<'_>,
    seq: u32,
    via: &OurVia<'_>,
    blocks: &mut Blocks,
) -> Option<Bytes> {
    written(r, blocks, |head| {
        write_head(head, r.method.as_str(), &p.to.uri, &[], None, p, seq, via)
    })
}

/// A request written by `head_in` (its start line and the fields before `r`'s, false when
/// they could not be written), then `r`'s Contact, its fields, Content-Length and its body,
/// cut from `blocks`.
fn written(
    r: &InDialog<'_>,
    blocks: &mut Blocks,
    head_in: impl FnOnce(&mut Scratch) -> bool,
) -> Option<Bytes> {
    let mut head = Scratch::new();
    if !head_in(&mut head) {
        return None;
    }
    let mut o = Out(&mut head);
    if let Some(c) = r.contact {
        o.s(super::HeaderName::Contact.field_start());
        o.name_addr(c);
        o.s("\r\n");
    }
    for h in r.fields {
        o.header(h);
    }
    o.s("Content-Length: ");
    o.num(r.body.len() as u64);
    o.s("\r\n\r\n");
    (!head.full).then(|| blocks.cut(head.written(), r.body))
}

/// The start line (`method` to `uri`) and the fields every request of ours starts with, in
/// `Dialog::request_in`'s order: our Via, Max-Forwards, the Route of `routes` (then `last`'s
/// URI, strict routing: §12.2.1.1), From, To, Call-ID, CSeq. False when they do not fit
/// or the branch is not a token.
#[allow(clippy::too_many_arguments)]
fn write_head<S: Text>(
    head: &mut Scratch,
    method: &str,
    uri: &Uri<S>,
    routes: &[NameAddr<S>],
    last: Option<&Uri<S>>,
    p: &Parties<'_>,
    seq: u32,
    via: &OurVia<'_>,
) -> bool {
    use super::HeaderName;
    if via.branch.is_empty() || !via.branch.bytes().all(crate::parse::chars::is_token) {
        return false;
    }
    let mut o = Out(head);
    o.s(method);
    o.b(b' ');
    o.uri(uri);
    o.s(" SIP/2.0\r\n");
    o.our_via(via);
    o.s(HeaderName::MaxForwards.field_start());
    o.s("70\r\n");
    if last.is_some() || !routes.is_empty() {
        o.s(HeaderName::Route.field_start());
        o.list(routes, |o, a| o.name_addr(a));
        if let Some(last) = last {
            if !routes.is_empty() {
                o.s(", ");
            }
            o.uri_after(last, "<");
            o.b(b'>');
        }
        o.s("\r\n");
    }
    o.s(HeaderName::From.field_start());
    o.name_addr(p.from);
    o.s("\r\n");
    o.s(HeaderName::To.field_start());
    o.name_addr(p.to);
    o.s("\r\n");
    o.s(HeaderName::CallId.field_start());
    o.s(p.call_id);
    o.s("\r\n");
    o.s(HeaderName::CSeq.field_start());
    o.num(u64::from(seq));
    o.b(b' ');
    o.s(method);
    o.s("\r\n");
    !head.full
}

/// What a response [`Message::plain_response`] writes carries after the fields copied from
/// its request, in this order (`Endpoint::response`'s, then its caller's).
pub(crate) struct Tail<'a> {
    /// The request's Record-Route fields (§12.1.1: a response that creates a dialog).
    pub record_route: bool,
    /// A Server field with this value (`Config::user_agent`).
    pub server: Option<&'a crate::text::SipStr>,
    /// More fields (a Contact, a Supported, ...).
    pub extra: &'a [Header<crate::text::SipStr>],
    /// The body (its Content-Type among `extra`).
    pub body: &'a [u8],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::HeaderName;
    use crate::text::SipStr;

    fn with_value(len: usize) -> Message {
        let wire = b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
            From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\n\
            CSeq: 1 OPTIONS\r\n\r\n";
        let mut m = Message::parse(Bytes::from_static(wire), &Default::default()).unwrap();
        m.headers.push(Header::Raw {
            name: HeaderName::Subject,
            value: SipStr::from("x".repeat(len)),
        });
        m
    }

    /// A warn-code below 100 keeps its three digits (RFC 3261 §20.43), so that the message
    /// parses again (found by the `roundtrip` fuzz target).
    #[test]
    fn warning_codes_have_three_digits() {
        for (code, text) in [(91u16, "091"), (7, "007"), (0, "000"), (399, "399")] {
            let w = crate::msg::Warning {
                code,
                agent: SipStr::from("h"),
                text: SipStr::from("\"t\""),
            };
            let h = Header::Warning(core::iter::once(w).collect());
            assert_eq!(
                crate::msg::emit::header_value_to_string(&h),
                alloc::format!("{text} h \"t\"")
            );
        }
    }

    /// The pieces written in one go (the usual `sent-protocol`, `<sip:`, an address with its
    /// port, a CSeq number with its space) and their general forms, as parsed.
    #[test]
    fn merged_pieces_and_their_general_forms() {
        let wire = b"OPTIONS sips:b@example.com SIP/2.0\r\n\
            Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
            Via: SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2\r\n\
            Via: SIP/2.0/SCTP h.example.com;branch=z9hG4bK3\r\n\
            Via: SIP/3.0/UDP h.example.com:7;branch=z9hG4bK4\r\n\
            From: \"A\" <sips:a@example.com>;tag=1\r\nTo: <tel:+1-555-0100>\r\n\
            Contact: <sip:10.0.0.1>, <urn:service:sos>\r\nCall-ID: c\r\nCSeq: 4294967295 OPTIONS\r\n\r\n";
        let m = Message::parse(Bytes::from_static(wire), &Default::default()).unwrap();
        let want = "OPTIONS sips:b@example.com SIP/2.0\r\n\
            Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
            Via: SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2\r\n\
            Via: SIP/2.0/SCTP h.example.com;branch=z9hG4bK3\r\n\
            Via: SIP/3.0/UDP h.example.com:7;branch=z9hG4bK4\r\n\
            From: \"A\" <sips:a@example.com>;tag=1\r\nTo: <tel:+1-555-0100>\r\n\
            Contact: <sip:10.0.0.1>, <urn:service:sos>\r\nCall-ID: c\r\nCSeq: 4294967295 OPTIONS\r\n\
            Content-Length: 0\r\n\r\n";
        assert_eq!(core::str::from_utf8(&m.to_bytes()).unwrap(), want);
    }

    /// The inline copy copies every length around its size classes.
    #[test]
    fn copy_every_length() {
        let src: alloc::vec::Vec<u8> = (0..80u8).collect();
        for n in 0..=80 {
            let mut dst = [0xeeu8; 80];
            copy(&mut dst[..n], &src[..n]);
            assert_eq!(&dst[..n], &src[..n], "{n}");
            assert!(dst[n..].iter().all(|&b| b == 0xee), "{n}");
        }
    }

    /// `decimal` agrees with `u64`'s `Display` at every length and edge.
    #[test]
    fn decimal_matches_display() {
        let mut cases = alloc::vec![0u64, 9, 10, 99, 100, 101, 255, 999, 1000, 65535, u64::MAX];
        let mut p = 1u64;
        while let Some(q) = p.checked_mul(10) {
            cases.extend([p - 1, p, p + 1, q - 1]);
            p = q;
        }
        for n in cases.into_iter().chain(0..10_000) {
            let mut buf = [0u8; 20];
            assert_eq!(decimal(n, &mut buf), alloc::format!("{n}").as_bytes());
        }
    }

    /// IPv4 hosts and ports as `Display` writes them.
    #[test]
    fn ipv4_hostport() {
        for (a, port) in [
            ([0, 0, 0, 0], None),
            ([255, 255, 255, 255], Some(65535)),
            ([127, 0, 0, 1], Some(5060)),
            ([10, 9, 100, 1], Some(0)),
        ] {
            let ip = core::net::Ipv4Addr::from(a);
            let mut b = BytesMut::new();
            Out(&mut b).hostport(&Host::<SipStr>::Ipv4(ip), port);
            let want = match port {
                Some(p) => alloc::format!("{ip}:{p}"),
                None => alloc::format!("{ip}"),
            };
            assert_eq!(&b[..], want.as_bytes());
        }
        for x in 0..=255u8 {
            let ip = core::net::Ipv4Addr::new(x, x / 2, 255 - x, x % 10);
            let want = alloc::format!("{ip}");
            assert_eq!(ipv4_text(ip, &mut [0; 15]), want.as_bytes());
        }
    }

    /// `to_bytes` and `emit` write what emitting straight to the heap writes, whether the head
    /// fits the stack buffer, just fits, or outgrows it.
    #[test]
    fn to_bytes_equals_emit_around_the_stack_buffer() {
        let base = {
            let mut b = BytesMut::new();
            with_value(0).emit(&mut b);
            b.len()
        };
        let sizes = [
            0,
            1,
            SCRATCH - base - 1,
            SCRATCH - base,
            SCRATCH - base + 1,
            3000,
        ];
        for (len, body) in sizes.into_iter().flat_map(|l| [(l, 0), (l, 1500)]) {
            let mut m = with_value(len);
            m.body = Bytes::from(alloc::vec![b'v'; body]);
            let mut want = BytesMut::new();
            m.emit_to(&mut Out(&mut want));
            let mut got = BytesMut::from(&b"x"[..]);
            m.emit(&mut got);
            assert_eq!(&got[1..], &want[..], "emit, value of {len} bytes");
            assert_eq!(
                m.to_bytes(),
                want.freeze(),
                "to_bytes, value of {len} bytes"
            );
        }
    }
}

#[cfg(test)]
mod plain_response {
    use super::{Blocks, Tail};
    use crate::msg::{builder, Contact, Header, HeaderName, Headers, MediaType, Message, NameAddr};
    use crate::text::SipStr;
    use bytes::Bytes;
    use core::net::SocketAddr;

    /// What the endpoint built before: the response message (`Endpoint::response`'s steps,
    /// then its caller's fields and body), then its bytes.
    fn built(
        req: &Message,
        code: u16,
        tag: Option<&str>,
        tail: &Tail<'_>,
        source: SocketAddr,
        blocks: Option<&mut Blocks>,
    ) -> Bytes {
        let mut r = builder::response_in(req, code, tag, Headers::new());
        crate::transport::stamp_via(&mut r, source);
        if tail.record_route {
            r.headers.extend(
                req.headers
                    .iter()
                    .filter(|h| matches!(h, Header::RecordRoute(_)))
                    .cloned(),
            );
        }
        if let Some(ua) = tail.server {
            r.headers.push(Header::Raw {
                name: HeaderName::Server,
                value: ua.clone(),
            });
        }
        r.headers.extend(tail.extra.iter().cloned());
        r.body = Bytes::copy_from_slice(tail.body);
        match blocks {
            Some(b) => r.to_bytes_in(b),
            None => r.to_bytes(),
        }
    }

    /// A response written straight from its request is the response built and emitted, byte
    /// for byte: stamped or not (the source's address and port against the sent-by and
    /// `rport`, IPv6 too), several Vias in a field and in several fields, compact names and
    /// odd spacing kept as they came, a To with and without a tag (and with parameters in odd
    /// spacing, a quoted one among them), Timestamp in a 100 only,
    /// quoted Via parameters, the request's Record-Route fields, a Server field, more fields
    /// and a body after them, blocks or not.
    #[test]
    fn equals_the_built_response() {
        let requests: &[&str] = &[
            "BYE sip:b@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\r\n\
             From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c1\r\nCSeq: 2 BYE\r\n\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            "NOTIFY sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP host.example.com;branch=z9hG4bK2 , \
             SIP/2.0/TCP p.example.com:5070;branch=z9hG4bKp;received=192.0.2.9\r\n\
             Via: SIP/2.0/UDP q.example.com;branch=z9hG4bKq\r\n\
             f:  \"A\" <sip:a@h>;tag=1\r\nt: sip:b@h\r\ni: c2@h\r\nCSeq:  7  NOTIFY\r\n\
             Event: refer\r\nTimestamp: 54\r\nl: 0\r\n\r\n",
            "CANCEL sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK3;x=\"a;b c\"\r\n\
             From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c3\r\nCSeq: 1 CANCEL\r\n\r\n",
            "REFER sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK4;rport=1;received=x\r\n\
             From: <sip:a@h>;tag=1\r\nTo: \"B\" <sip:b@h;lr> ;x = \"1 2\";  Y\r\nCall-ID: c4\r\nCSeq: 1 REFER\r\n\
             Refer-To: <sip:c@h>\r\nTimestamp: 1.5 0.2\r\n\r\n",
            "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK5\r\n\
             Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
             From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c5\r\nCSeq: 1 INVITE\r\n\
             Record-Route:   <sip:p3.example.com;lr;x=y>\r\n\
             Contact: <sip:a@127.0.0.1>\r\nContent-Type: application/sdp\r\nl: 4\r\n\r\nv=0\n",
        ];
        let sources: [SocketAddr; 4] = [
            "127.0.0.1:5070".parse().unwrap(),
            "192.0.2.1:5060".parse().unwrap(),
            "198.51.100.7:40000".parse().unwrap(),
            "[2001:db8::1]:5062".parse().unwrap(),
        ];
        let server = SipStr::from("sipxfer/0.1");
        let mut contact = crate::msg::Values::new();
        contact.push(NameAddr::new(
            crate::msg::Uri::parse("sip:b@192.0.2.2:5062;transport=udp").unwrap(),
        ));
        let extra = [
            Header::Contact(Contact::Addrs(contact)),
            Header::Supported([SipStr::from("replaces")].into_iter().collect()),
            Header::ContentType(MediaType {
                ty: SipStr::from_static("application"),
                subtype: SipStr::from_static("sdp"),
                params: Default::default(),
            }),
        ];
        let sdp = b"v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\n";
        let tails = [
            (false, None, &extra[..0], &sdp[..0]),
            (false, Some(&server), &extra[..0], &sdp[..0]),
            (true, None, &extra[..], &sdp[..]),
            (true, Some(&server), &extra[..2], &sdp[..0]),
        ];
        let mut compared = 0;
        for wire in requests {
            let req =
                Message::parse(Bytes::from(wire.as_bytes().to_vec()), &Default::default()).unwrap();
            for code in [100, 180, 200, 202, 481, 487, 500] {
                for tag in [None, Some("t9")] {
                    for (record_route, server, extra, body) in tails {
                        let tail = Tail {
                            record_route,
                            server,
                            extra,
                            body,
                        };
                        for source in sources {
                            for size in [None, Some(0), Some(4096), Some(64)] {
                                let (mut b1, mut b2) =
                                    (size.map(Blocks::new), size.map(Blocks::new));
                                let plain = req
                                    .plain_response(code, tag, &tail, source, b1.as_mut())
                                    .unwrap();
                                let expected = built(&req, code, tag, &tail, source, b2.as_mut());
                                assert_eq!(
                                    plain, expected,
                                    "{wire:?} {code} {tag:?} {record_route} {server:?} {source} {size:?}"
                                );
                                compared += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 5 * 7 * 2 * 4 * 4 * 4);
    }
}

#[cfg(test)]
mod ack {
    use super::{Blocks, OurVia};
    use crate::dialog::Dialog;
    use crate::msg::{Header, Headers, Message, Method, NameAddr};
    use crate::text::SipStr;
    use crate::transport::{Destination, Transport};
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use bytes::Bytes;

    fn parse(text: String) -> Message {
        Message::parse(Bytes::from(text), &Default::default()).expect("parses")
    }

    /// Our dialog from an INVITE and its 2xx: `from` (our From field's value), `contact`
    /// (the 2xx's Contact value) and its Record-Route fields.
    fn dialog(from: &str, contact: &str, record_route: &[&str]) -> Dialog {
        let invite = parse(format!(
            "INVITE sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
             From: {from}\r\nTo: <sip:bob@192.0.2.2>\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\n\
             CSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n"
        ));
        let rr: String = record_route
            .iter()
            .map(|r| format!("Record-Route: {r}\r\n"))
            .collect();
        let ok = parse(format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n{rr}\
             From: {from}\r\nTo: \"Bob\" <sip:bob@192.0.2.2>;tag=8321234356\r\n\
             Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\n\
             Contact: {contact}\r\nContent-Length: 0\r\n\r\n"
        ));
        let peer = Destination::udp("192.0.2.2:5060".parse().unwrap());
        Dialog::uac(&invite, &ok, peer).expect("a dialog")
    }

    /// What the endpoint built before: the request (`Dialog::request_in`), our Via on top,
    /// its bytes.
    fn built(d: &Dialog, seq: u32, via: &OurVia<'_>) -> Bytes {
        built_as(Method::Ack, d, seq, via)
    }

    fn built_as(method: Method<SipStr>, d: &Dialog, seq: u32, via: &OurVia<'_>) -> Bytes {
        built_with(method, d, seq, via, None, &[], b"")
    }

    /// [`built_as`] with a Contact, more fields and a body (a NOTIFY's).
    fn built_with(
        method: Method<SipStr>,
        d: &Dialog,
        seq: u32,
        via: &OurVia<'_>,
        contact: Option<&NameAddr<SipStr>>,
        fields: &[Header<SipStr>],
        body: &'static [u8],
    ) -> Bytes {
        let mut d = d.clone();
        let mut m = d.request_in(method, Some(seq), contact, Headers::new());
        m.headers.extend(fields.iter().cloned());
        m.body = Bytes::from_static(body);
        m.headers.insert(0, via.field());
        m.to_bytes()
    }

    fn in_dialog<'a>(
        method: Method<SipStr>,
        contact: Option<&'a NameAddr<SipStr>>,
        fields: &'a [Header<SipStr>],
        body: &'a [u8],
    ) -> super::InDialog<'a> {
        super::InDialog {
            method,
            contact,
            fields,
            body,
        }
    }

    /// The fields a NOTIFY of a refer subscription carries, and its Contact.
    fn notify_parts() -> (NameAddr<SipStr>, Vec<Header<SipStr>>) {
        parts(
            "Event: refer;id=93809824\r\nSubscription-State: active;expires=60\r\n\
             Content-Type: message/sipfrag;version=2.0\r\n",
        )
    }

    /// The fields an attended transfer's REFER carries (RFC 5589 §7.1), and its Contact.
    fn refer_parts() -> (NameAddr<SipStr>, Vec<Header<SipStr>>) {
        parts(
            "Refer-To: <sip:carol@192.0.2.3?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n\
             Referred-By: \"Alice\" <sip:alice@192.0.2.1>\r\nRefer-Sub: false\r\n",
        )
    }

    /// A Contact and the fields `fields` of a request, as parsed.
    fn parts(fields: &str) -> (NameAddr<SipStr>, Vec<Header<SipStr>>) {
        let m = parse(format!(
            "NOTIFY sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n\
             Max-Forwards: 70\r\nFrom: <sip:b@192.0.2.2>;tag=2\r\nTo: <sip:a@192.0.2.1>;tag=1\r\n\
             Call-ID: n1\r\nCSeq: 1 NOTIFY\r\nContact: <sip:bob@192.0.2.2:5062;transport=udp>\r\n\
             {fields}Content-Length: 0\r\n\r\n"
        ));
        let mut fields: Vec<Header<SipStr>> = m.headers.iter().skip(6).cloned().collect();
        let contact = match fields.remove(0) {
            Header::Contact(crate::msg::Contact::Addrs(v)) => v.first().cloned().unwrap(),
            _ => unreachable!(),
        };
        (contact, fields)
    }

    /// The ACK, and the BYE, NOTIFY, REFER and SUBSCRIBE, written straight from the dialog
    /// are the ones built and emitted, byte for byte: loose and strict routing (a route set of none, one and three, with and
    /// without `lr`), display names, URI and header parameters, IPv6, the three transports,
    /// small and large CSeq numbers; the requests cut from blocks or (blocks of size 0) in a
    /// buffer of their own.
    #[test]
    fn equals_the_built_request() {
        let froms = [
            "<sip:alice@192.0.2.1>;tag=1928301774",
            "\"Alice Liddell\" <sips:alice:secret@atlanta.example.com:5061;transport=tls>;tag=x;y=z",
            "Alice <sip:alice@[2001:db8::1]:5070>;tag=ab",
        ];
        let contacts = [
            "<sip:bob@192.0.2.2:5062>",
            "<sip:bob@biloxi.example.com;transport=tcp;ob>;expires=60",
            "<sip:[2001:db8::2]>",
            "<tel:+15551234567;phone-context=example.com>",
        ];
        let routes: [&[&str]; 5] = [
            &[],
            &["<sip:p1.example.com;lr>"],
            &[
                "<sip:p1.example.com;lr>",
                "<sip:p2.example.com;lr>, <sip:p3.example.com:5070;lr;transport=udp>",
            ],
            &["<sip:strict.example.com>"],
            &[
                "<sip:strict.example.com;maddr=192.0.2.9>",
                "\"P\" <sip:p2.example.com;lr>",
            ],
        ];
        let vias = [
            (Transport::Udp, "192.0.2.1:5060"),
            (Transport::Tcp, "192.0.2.1:15060"),
            (Transport::Tls, "[2001:db8::1]:5061"),
        ];
        let mut n = 0;
        for from in froms {
            for contact in contacts {
                for rr in routes {
                    let d = dialog(from, contact, rr);
                    for (transport, addr) in vias {
                        for seq in [1u32, 314159, u32::MAX] {
                            let via = OurVia {
                                transport,
                                addr: addr.parse().unwrap(),
                                branch: "z9hG4bKnashds8.Xx-7_!~*'%+`",
                            };
                            let got = d.ack_bytes(seq, &via).expect("fits");
                            assert_eq!(
                                got,
                                built(&d, seq, &via),
                                "{}",
                                String::from_utf8_lossy(&got)
                            );
                            let bye = built_as(Method::Bye, &d, seq, &via);
                            let (contact, fields) = notify_parts();
                            let body = b"SIP/2.0 100 Trying\r\n";
                            let notify = built_with(
                                Method::Notify,
                                &d,
                                seq,
                                &via,
                                Some(&contact),
                                &fields,
                                body,
                            );
                            let (_, refer) = refer_parts();
                            let refer_built = built_with(
                                Method::Refer,
                                &d,
                                seq,
                                &via,
                                Some(&contact),
                                &refer,
                                b"",
                            );
                            let (_, sub) = parts("Event: refer;id=93809824\r\nExpires: 0\r\n");
                            let sub_built = built_with(
                                Method::Subscribe,
                                &d,
                                seq,
                                &via,
                                Some(&contact),
                                &sub,
                                b"",
                            );
                            for size in [0, 4096] {
                                let r = in_dialog(Method::Bye, None, &[], b"");
                                let got = d
                                    .request_bytes(&r, seq, &via, &mut Blocks::new(size))
                                    .expect("fits");
                                assert_eq!(got, bye, "{}", String::from_utf8_lossy(&got));
                                let r = in_dialog(Method::Notify, Some(&contact), &fields, body);
                                let got = d
                                    .request_bytes(&r, seq, &via, &mut Blocks::new(size))
                                    .expect("fits");
                                assert_eq!(got, notify, "{}", String::from_utf8_lossy(&got));
                                let r = in_dialog(Method::Refer, Some(&contact), &refer, b"");
                                let got = d
                                    .request_bytes(&r, seq, &via, &mut Blocks::new(size))
                                    .expect("fits");
                                assert_eq!(got, refer_built, "{}", String::from_utf8_lossy(&got));
                                let r = in_dialog(Method::Subscribe, Some(&contact), &sub, b"");
                                let got = d
                                    .request_bytes(&r, seq, &via, &mut Blocks::new(size))
                                    .expect("fits");
                                assert_eq!(got, sub_built, "{}", String::from_utf8_lossy(&got));
                            }
                            n += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(n, 3 * 4 * 5 * 3 * 3);
        // Written, then read back as the ACK it is.
        let d = dialog(froms[0], contacts[0], routes[3]);
        let via = OurVia {
            transport: Transport::Udp,
            addr: "192.0.2.1:5060".parse().unwrap(),
            branch: "z9hG4bKabc",
        };
        let ack = parse(String::from_utf8(d.ack_bytes(7, &via).unwrap().to_vec()).unwrap());
        assert_eq!(ack.method(), Some(&Method::Ack));
        assert_eq!(ack.cseq().map(|c| c.seq), Some(7));
        let r = in_dialog(Method::Bye, None, &[], b"");
        let bye = d
            .request_bytes(&r, 8, &via, &mut Blocks::new(4096))
            .unwrap();
        let bye = parse(String::from_utf8(bye.to_vec()).unwrap());
        assert_eq!(bye.method(), Some(&Method::Bye));
        assert_eq!(
            bye.cseq().map(|c| (c.seq, c.method.as_str())),
            Some((8, "BYE"))
        );
    }

    /// The INVITE that starts a call, written straight from its parts
    /// ([`super::request_bytes`]), is the one `Endpoint::call` built before, byte for byte:
    /// From with a display name, parameters and a tag, the target a SIP, SIPS or IPv6 URI with
    /// parameters (the Request-URI and To), the application's fields (Supported, a preloaded
    /// Route, Referred-By, Replaces, an unknown field), with and without an offer, the three
    /// transports, small and large CSeq numbers; cut from blocks or in a buffer of its own.
    /// And a re-INVITE written from its dialog is the one built from it.
    #[test]
    fn the_initial_invite_equals_the_built_one() {
        use crate::msg::builder::RequestBuilder;
        let froms = [
            "<sip:alice@192.0.2.1>",
            "\"Alice Liddell\" <sips:alice@atlanta.example.com:5061;transport=tls>;x=y",
        ];
        let targets = [
            "sip:bob@192.0.2.2",
            "sips:bob@biloxi.example.com:5071;transport=tcp;user=phone",
            "sip:[2001:db8::2]:5070",
        ];
        let extra = [
            "",
            "Supported: replaces, norefersub\r\n",
            "Supported: replaces\r\nRoute: <sip:p1.example.com;lr>\r\n\
             Referred-By: <sip:alice@192.0.2.1>\r\n\
             Replaces: a84b4c76e66710@pc33.example.com;to-tag=1;from-tag=2\r\nX-Foo: bar baz\r\n",
        ];
        let vias = [
            (Transport::Udp, "192.0.2.1:5060"),
            (Transport::Tcp, "192.0.2.1:15060"),
            (Transport::Tls, "[2001:db8::1]:5061"),
        ];
        let (contact, _) = parts("");
        let sdp = crate::msg::MediaType {
            ty: "application".into(),
            subtype: "sdp".into(),
            params: Default::default(),
        };
        let offer: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
        let mut n = 0;
        for from in froms {
            let from = parse(format!(
                "OPTIONS sip:x@192.0.2.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK9\r\n\
                 From: {from}\r\nTo: <sip:x@192.0.2.9>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n\
                 Content-Length: 0\r\n\r\n"
            ))
            .from()
            .cloned()
            .unwrap();
            let mut local = from.clone();
            local.params.push("tag", Some("1928301774"));
            for target in targets {
                let target = crate::msg::Uri::parse(target).unwrap();
                let remote = NameAddr::new(target.clone());
                for extra in extra {
                    let (_, fields) = parts(extra);
                    for body in [None, Some(offer)] {
                        let mut all = fields.clone();
                        if body.is_some() {
                            all.push(Header::ContentType(sdp.clone()));
                        }
                        for (transport, addr) in vias {
                            for seq in [1u32, u32::MAX] {
                                let via = OurVia {
                                    transport,
                                    addr: addr.parse().unwrap(),
                                    branch: "z9hG4bKnashds8",
                                };
                                let mut b = RequestBuilder::new(Method::Invite, target.clone())
                                    .from(from.clone(), "1928301774")
                                    .to(NameAddr::new(target.clone()))
                                    .call_id("a84b4c76e66710@pc33.example.com")
                                    .cseq(seq)
                                    .header(Header::Contact(crate::msg::Contact::Addrs(
                                        [contact.clone()].into_iter().collect(),
                                    )));
                                for h in &fields {
                                    b = b.header(h.clone());
                                }
                                if let Some(o) = body {
                                    b = b.body(sdp.clone(), Bytes::from_static(o));
                                }
                                let mut m = b.build();
                                m.headers.insert(0, via.field());
                                let built = m.to_bytes();
                                let parties = super::Parties {
                                    from: &local,
                                    to: &remote,
                                    call_id: "a84b4c76e66710@pc33.example.com",
                                };
                                let r = in_dialog(
                                    Method::Invite,
                                    Some(&contact),
                                    &all,
                                    body.unwrap_or_default(),
                                );
                                for size in [0, 4096] {
                                    let got = super::request_bytes(
                                        &parties,
                                        &r,
                                        seq,
                                        &via,
                                        &mut Blocks::new(size),
                                    )
                                    .expect("fits");
                                    assert_eq!(got, built, "{}", String::from_utf8_lossy(&got));
                                }
                                n += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(n, 2 * 3 * 3 * 2 * 3 * 2);
        // A re-INVITE (hold: RFC 3264 §8.4), loose and strict routing.
        for rr in [&[][..], &["<sip:strict.example.com>"][..]] {
            let d = dialog("<sip:alice@192.0.2.1>;tag=1", "<sip:bob@192.0.2.2>", rr);
            let via = OurVia {
                transport: Transport::Udp,
                addr: "192.0.2.1:5060".parse().unwrap(),
                branch: "z9hG4bK2",
            };
            let fields = [Header::ContentType(sdp.clone())];
            let built = built_with(Method::Invite, &d, 2, &via, Some(&contact), &fields, offer);
            let r = in_dialog(Method::Invite, Some(&contact), &fields, offer);
            let got = d
                .request_bytes(&r, 2, &via, &mut Blocks::new(4096))
                .expect("fits");
            assert_eq!(got, built, "{}", String::from_utf8_lossy(&got));
        }
    }

    /// What cannot be written straight is left to the built request: a branch that is not a
    /// token, a head too long for the stack.
    #[test]
    fn left_to_the_built_request() {
        let via = |branch| OurVia {
            transport: Transport::Udp,
            addr: "192.0.2.1:5060".parse().unwrap(),
            branch,
        };
        let d = dialog("<sip:alice@192.0.2.1>;tag=1", "<sip:bob@192.0.2.2>", &[]);
        assert!(d.ack_bytes(1, &via("")).is_none());
        assert!(d.ack_bytes(1, &via("z9hG4bK a")).is_none());
        let blocks = &mut Blocks::new(4096);
        let bye = in_dialog(Method::Bye, None, &[], b"");
        assert!(d.request_bytes(&bye, 1, &via(""), blocks).is_none());
        assert!(d
            .request_bytes(&bye, 1, &via("z9hG4bK a"), blocks)
            .is_none());
        let long: Vec<String> = (0..40)
            .map(|k| format!("<sip:proxy{k}.example.com;lr>"))
            .collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let d = dialog("<sip:alice@192.0.2.1>;tag=1", "<sip:bob@192.0.2.2>", &long);
        assert!(d.ack_bytes(1, &via("z9hG4bK1")).is_none());
        assert!(d.request_bytes(&bye, 1, &via("z9hG4bK1"), blocks).is_none());
        assert!(built(&d, 1, &via("z9hG4bK1")).len() > super::SCRATCH);
    }
}
