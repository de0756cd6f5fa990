//! [`Received`]: a parsed message that owns its bytes.

use super::Message;
use crate::parse::{parse_message, Limits, ParseError};
use crate::text::SipStr;
use bytes::Bytes;
use core::fmt;

/// An owned, `'static` parsed message that keeps the datagram's [`Bytes`] and the
/// zero-copy view into them side by side.
///
/// The borrowed view ([`crate::parse::parse_message`], `Message<&str>`) is the cheapest typed
/// parse, but it borrows the buffer, so it cannot be stored in a transaction table, queued, or
/// sent to another task. The owned model ([`Message::parse`], `Message<SipStr>`) can, at the
/// price of a string handle per value (≈ 20 % more time on the benchmark corpus). `Received`
/// holds the reference-counted buffer and the view parsed from it: it is owned and `Send`, and
/// it costs what the view costs plus one reference count. It is read-only; convert it with
/// [`Received::to_message`] when a model to change is needed.
///
/// ```
/// use bytes::Bytes;
/// use sipxfer::msg::Received;
/// let m = Received::parse(Bytes::from_static(
///     b"SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\
///       From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: x@y\r\n\
///       CSeq: 93809824 REFER\r\nContent-Length: 0\r\n\r\n"),
///     &Default::default()).unwrap();
/// let stored: Vec<Received> = vec![m]; // no lifetime: it can be kept, queued, moved
/// let m = stored[0].get();
/// assert_eq!(m.status(), Some(202));
/// assert_eq!(m.to().unwrap().tag(), Some("2"));
/// ```
pub struct Received {
    /// Strings of `view` point into `buf`'s storage; they are never handed out with a lifetime
    /// longer than a borrow of `self` (see [`Received::get`]).
    view: Message<&'static str>,
    /// Keeps the storage alive; never replaced, so the storage the view points to lives as long
    /// as `self` does.
    buf: Bytes,
}

impl Received {
    /// Parses a datagram (RFC 3261 §7, §18.3) exactly as [`parse_message`] does, and keeps
    /// `buf` so that the result can outlive the caller's borrow.
    pub fn parse(buf: Bytes, limits: &Limits) -> Result<Self, ParseError> {
        let view = parse_message(&buf, limits)?;
        Ok(Received {
            view: extend(view),
            buf,
        })
    }

    /// The typed view, borrowed from `self`: its strings cannot outlive the `Received`.
    ///
    /// ```compile_fail
    /// # use sipxfer::msg::Received;
    /// let call_id: &'static str = {
    ///     let r = Received::parse(bytes::Bytes::from_static(b"..."), &Default::default()).unwrap();
    ///     r.get().call_id().unwrap() // error: `r` does not live long enough
    /// };
    /// ```
    #[inline]
    pub fn get(&self) -> &Message<&str> {
        shorten(&self.view)
    }

    /// The bytes the message was parsed from (including anything after the body that was
    /// ignored, RFC 3261 §18.3).
    pub fn bytes(&self) -> &Bytes {
        &self.buf
    }

    /// The owned model of the same message; strings longer than 22 bytes and the body become
    /// slices of the same buffer (reference counts, not copies).
    pub fn to_message(&self) -> Message<SipStr> {
        self.get().to_shared(&self.buf)
    }

    /// Gives the buffer back.
    pub fn into_bytes(self) -> Bytes {
        self.buf
    }
}

/// Stores a view of `buf` with its lifetime erased.
#[allow(unsafe_code)]
fn extend(view: Message<&str>) -> Message<&'static str> {
    // SAFETY: only the lifetime changes; `Message<&'a str>` and `Message<&'static str>` are
    // the same type to the layout. The strings point into the heap (or static) storage of a
    // `Bytes` that the caller stores next to the result and never replaces: moving a `Bytes`
    // handle does not move its storage, and the storage is freed only when the last handle
    // is dropped. The result is read only through `shorten`, which ties every string to a
    // borrow of the owner.
    unsafe { core::mem::transmute::<Message<&str>, Message<&'static str>>(view) }
}

/// Shortens the erased lifetime to a borrow of the owner.
#[allow(unsafe_code)]
#[inline]
fn shorten<'a>(view: &'a Message<&'static str>) -> &'a Message<&'a str> {
    // SAFETY: a shared borrow of a message whose strings live at least as long as `'a` (they
    // live as long as the owner, which is borrowed for `'a`). This is the covariant shortening
    // `&'static str` → `&'a str`; the compiler cannot see it by itself only because the body
    // type is an associated type (`<&str as Text>::Bytes = &[u8]`), which makes `Message`
    // invariant. The model has no interior mutability, so nothing shorter-lived can be
    // written into it through this shared borrow.
    unsafe { core::mem::transmute::<&'a Message<&'static str>, &'a Message<&'a str>>(view) }
}

impl Clone for Received {
    fn clone(&self) -> Self {
        // The cloned handle shares the storage the view points into.
        Received {
            view: self.view.clone(),
            buf: self.buf.clone(),
        }
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
    }
}

impl PartialEq for Received {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Received {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const REFER: &[u8] = b"REFER sip:bob@192.0.2.4:5060 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKnashds8;rport\r\n\
        Max-Forwards: 70\r\n\
        From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
        To: \"Bob\" <sip:bob@example.com>;tag=a6c85cf\r\n\
        Call-ID: a84b4c76e66710@pc33.example.com\r\n\
        CSeq: 314160 REFER\r\n\
        Refer-To: <sip:carol@example.com?Replaces=abc123%40pc33.example.com%3Bto-tag%3D5678%3Bfrom-tag%3D1234>\r\n\
        Content-Length: 4\r\n\r\nbodyEXTRA";

    #[test]
    fn outlives_the_callers_buffer_and_equals_the_view() {
        // The only handle to the storage is the one moved into `Received`.
        let r = {
            let owned = Bytes::from(REFER.to_vec());
            Received::parse(owned, &Limits::default()).unwrap()
        };
        let moved: Vec<Received> = Vec::from([r]);
        let m = moved[0].get();
        assert_eq!(m, &parse_message(REFER, &Limits::default()).unwrap());
        assert_eq!(m.call_id(), Some("a84b4c76e66710@pc33.example.com"));
        assert_eq!(m.body, b"body");
        let rep = m.refer_to().unwrap().embedded_replaces().unwrap().unwrap();
        assert_eq!(rep.call_id.as_ref(), "abc123@pc33.example.com");
        assert_eq!(moved[0].bytes().len(), REFER.len());
    }

    #[test]
    fn clone_and_to_message_share_the_storage() {
        let r = Received::parse(Bytes::from(REFER.to_vec()), &Limits::default()).unwrap();
        let c = r.clone();
        drop(r);
        assert_eq!(c.get().from().unwrap().tag(), Some("1928301774"));
        let owned = c.to_message();
        let buf = c.into_bytes();
        assert_eq!(owned.body.as_ptr(), buf[buf.len() - 9..].as_ptr());
        assert_eq!(owned.call_id(), Some("a84b4c76e66710@pc33.example.com"));
    }

    #[test]
    fn errors_are_those_of_the_view() {
        let bad = &REFER[..REFER.len() - 8];
        assert_eq!(
            Received::parse(Bytes::copy_from_slice(bad), &Limits::default()).unwrap_err(),
            parse_message(bad, &Limits::default()).unwrap_err()
        );
    }

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn is_send_sync_and_static() {
        assert_send_sync::<Received>();
    }
}
