//! The little SDP the core needs for hold and resume. Session descriptions are the
//! application's and stay opaque bytes; this module only rewrites the media direction
//! attribute and the `o=` version, which is what RFC 3264 §8.4 asks of a re-offer that puts a
//! stream on hold (`a=sendonly`, or `a=inactive`) and takes it off hold (`a=sendrecv`).
//!
//! ```
//! use sipxfer::sdp::{self, Direction};
//! let offer = b"v=0\r\no=- 7 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
//! let hold = sdp::reoffer(offer, Direction::SendOnly);
//! assert_eq!(sdp::direction(&hold), Direction::SendOnly);
//! assert!(hold.starts_with(b"v=0\r\no=- 7 2 IN IP4 192.0.2.1\r\n"));
//! // The answerer mirrors the direction (RFC 3264 §6.1).
//! assert_eq!(sdp::direction(&hold).answer(), Direction::RecvOnly);
//! ```

use alloc::vec::Vec;
use bytes::Bytes;

/// The media direction attribute (RFC 4566 §6: `a=sendrecv`, `a=sendonly`, `a=recvonly`,
/// `a=inactive`; absent means `sendrecv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Send and receive (the default).
    SendRecv,
    /// Send only: the offerer puts the peer on hold.
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// The attribute line's value (`sendrecv`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn parse(attr: &[u8]) -> Option<Direction> {
        Some(match attr {
            b"sendrecv" => Direction::SendRecv,
            b"sendonly" => Direction::SendOnly,
            b"recvonly" => Direction::RecvOnly,
            b"inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// RFC 3264 §6.1: the direction an answer gives a stream offered with `self` (sendonly
    /// is answered recvonly, recvonly sendonly, the others alike).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }

    /// Whether the stream is on hold from the point of view of whoever sent this direction
    /// (RFC 3264 §8.4: sendonly or inactive).
    pub fn is_hold(self) -> bool {
        matches!(self, Direction::SendOnly | Direction::Inactive)
    }
}

fn lines(sdp: &[u8]) -> impl Iterator<Item = &[u8]> {
    sdp.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

/// The direction of the first media stream (its own attribute, else the session-level one,
/// else `sendrecv`).
pub fn direction(sdp: &[u8]) -> Direction {
    let mut session = None;
    let mut media = None;
    let mut in_media = false;
    for l in lines(sdp) {
        if l.starts_with(b"m=") {
            if in_media {
                break;
            }
            in_media = true;
        } else if let Some(d) = l.strip_prefix(b"a=").and_then(Direction::parse) {
            if in_media {
                media = Some(d);
            } else {
                session = Some(d);
            }
        }
    }
    media.or(session).unwrap_or(Direction::SendRecv)
}

/// A new offer or answer from a previous one (RFC 3264 §8): every direction attribute
/// replaced by one `a=<dir>` per media section (or at session level when there is no
/// media), and the `o=` session version incremented (§8: "the version in the origin field
/// MUST increment by one"). Lines come out CRLF-terminated.
pub fn reoffer(sdp: &[u8], dir: Direction) -> Bytes {
    let mut out = Vec::with_capacity(sdp.len() + 16);
    let attr = |out: &mut Vec<u8>| {
        out.extend_from_slice(b"a=");
        out.extend_from_slice(dir.as_str().as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    let mut in_media = false;
    for l in lines(sdp) {
        if l.starts_with(b"a=") && Direction::parse(&l[2..]).is_some() {
            continue;
        }
        if l.starts_with(b"m=") {
            if in_media {
                attr(&mut out);
            }
            in_media = true;
        }
        match l.strip_prefix(b"o=") {
            Some(o) => {
                out.extend_from_slice(b"o=");
                bump_origin(o, &mut out);
            }
            None => out.extend_from_slice(l),
        }
        out.extend_from_slice(b"\r\n");
    }
    attr(&mut out);
    Bytes::from(out)
}

/// An answer that refuses every stream of `offer` (RFC 3264 §6: "To reject an offered
/// stream, the port number in the corresponding stream in the answer MUST be set to zero.
/// Any media formats listed are ignored. At least one MUST be present"): an `m=` line per
/// offered one (§6: "exactly the same number of m= lines as the offer"), port 0 and the
/// first format, the offer's `t=` line (§6: "MUST equal that of the offer"), and an origin
/// and a connection of our own with the unspecified address of the offer's family. What a
/// UAC answers in its ACK when it cannot take the offer of a 2xx (RFC 3261 §13.2.2.4: "the
/// UAC core MUST generate a valid answer in the ACK and then send a BYE immediately").
///
/// ```
/// let offer = b"v=0\r\no=b 7 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n\
///     m=audio 5000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\nm=video 5002 RTP/AVP 96\r\n";
/// assert_eq!(
///     &sipxfer::sdp::refusal(offer)[..],
///     b"v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
///       m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n"
/// );
/// ```
pub fn refusal(offer: &[u8]) -> Bytes {
    let ip6 = lines(offer).any(|l| l.starts_with(b"c=IN IP6 "));
    let (family, unspecified): (&[u8], &[u8]) = if ip6 {
        (b"IP6", b"::")
    } else {
        (b"IP4", b"0.0.0.0")
    };
    let mut out = Vec::with_capacity(128);
    for part in [
        b"v=0\r\no=- 0 0 IN ".as_slice(),
        family,
        b" ",
        unspecified,
        b"\r\ns=-\r\nc=IN ",
        family,
        b" ",
        unspecified,
        b"\r\n",
    ] {
        out.extend_from_slice(part);
    }
    let t = lines(offer)
        .find(|l| l.starts_with(b"t="))
        .unwrap_or(b"t=0 0");
    out.extend_from_slice(t);
    out.extend_from_slice(b"\r\n");
    for m in lines(offer).filter_map(|l| l.strip_prefix(b"m=")) {
        // m=<media> <port> <proto> <fmt> ... (RFC 4566 §5.14)
        // A line short of its fields still counts (§6: one m= line per offered one).
        let mut fields = m.split(|&b| b == b' ').filter(|f| !f.is_empty());
        let media = fields.next().unwrap_or(b"audio");
        let proto = fields.nth(1).unwrap_or(b"RTP/AVP");
        out.extend_from_slice(b"m=");
        out.extend_from_slice(media);
        out.extend_from_slice(b" 0 ");
        out.extend_from_slice(proto);
        out.extend_from_slice(b" ");
        out.extend_from_slice(fields.next().unwrap_or(b"0"));
        out.extend_from_slice(b"\r\n");
    }
    Bytes::from(out)
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>` (RFC 4566 §5.2)
/// with `sess-version` plus one; copied unchanged when the field does not have that shape.
fn bump_origin(o: &[u8], out: &mut Vec<u8>) {
    let version = o
        .split(|&b| b == b' ')
        .nth(2)
        .filter(|v| !v.is_empty() && v.iter().all(u8::is_ascii_digit))
        .and_then(|v| {
            v.iter().try_fold(0u64, |n, d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
        });
    let Some(version) = version else {
        out.extend_from_slice(o);
        return;
    };
    for (i, f) in o.split(|&b| b == b' ').enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if i == 2 {
            let mut digits = [0; 20];
            out.extend_from_slice(crate::msg::emit::decimal(
                version.wrapping_add(1),
                &mut digits,
            ));
        } else {
            out.extend_from_slice(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_has_an_m_line_per_offered_one_at_port_zero() {
        let r = refusal(OFFER);
        assert_eq!(
            &r[..],
            b"v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
              m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n"
        );
        let v6 = b"v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=3 4\r\nm=audio 4000 RTP/AVP\r\n";
        assert_eq!(
            &refusal(v6)[..],
            b"v=0\r\no=- 0 0 IN IP6 ::\r\ns=-\r\nc=IN IP6 ::\r\nt=3 4\r\nm=audio 0 RTP/AVP 0\r\n"
        );
        // No m= line offered, none answered (§6); a line short of its fields still counts.
        assert!(refusal(b"v=0\r\nt=0 0\r\n").ends_with(b"t=0 0\r\n"));
        assert!(
            refusal(b"v=0\r\nt=0 0\r\nm=video\r\n").ends_with(b"t=0 0\r\nm=video 0 RTP/AVP 0\r\n")
        );
    }

    const OFFER: &[u8] = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\ns=\r\nc=IN IP4 host.atlanta.example.com\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 97\r\na=rtpmap:0 PCMU/8000\r\nm=video 51372 RTP/AVP 31 32\r\na=sendrecv\r\na=rtpmap:31 H261/90000\r\n";

    #[test]
    fn hold_rewrites_every_stream_and_bumps_the_version() {
        let hold = reoffer(OFFER, Direction::SendOnly);
        let text = core::str::from_utf8(&hold).unwrap();
        assert_eq!(
            text,
            "v=0\r\no=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com\r\ns=\r\n\
             c=IN IP4 host.atlanta.example.com\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 97\r\n\
             a=rtpmap:0 PCMU/8000\r\na=sendonly\r\nm=video 51372 RTP/AVP 31 32\r\n\
             a=rtpmap:31 H261/90000\r\na=sendonly\r\n"
        );
        assert_eq!(direction(&hold), Direction::SendOnly);
        let resume = reoffer(&hold, Direction::SendRecv);
        assert_eq!(direction(&resume), Direction::SendRecv);
        assert!(resume.windows(10).any(|w| w == b"2890844528"));
    }

    #[test]
    fn directions() {
        assert_eq!(direction(OFFER), Direction::SendRecv);
        assert_eq!(
            direction(b"v=0\na=inactive\nm=audio 1 RTP/AVP 0\n"),
            Direction::Inactive
        );
        assert_eq!(
            direction(b"v=0\na=inactive\nm=audio 1 RTP/AVP 0\na=recvonly\n"),
            Direction::RecvOnly
        );
        assert_eq!(Direction::SendOnly.answer(), Direction::RecvOnly);
        assert_eq!(Direction::Inactive.answer(), Direction::Inactive);
        assert!(Direction::Inactive.is_hold() && !Direction::RecvOnly.is_hold());
    }

    #[test]
    fn odd_input_is_copied_not_rejected() {
        for sdp in [
            &b""[..],
            b"o=\r\n",
            b"o=- x y\n",
            b"o=- 1 18446744073709551615 IN IP4 a\n",
            b"\xff\xfe\r\n\r\n",
        ] {
            let out = reoffer(sdp, Direction::Inactive);
            assert_eq!(direction(&out), Direction::Inactive);
        }
        assert!(reoffer(
            b"o=- 1 18446744073709551615 IN IP4 a\n",
            Direction::SendRecv
        )
        .starts_with(b"o=- 1 0 IN"));
    }
}
