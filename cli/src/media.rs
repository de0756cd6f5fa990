//! The SDP `sipxfer ua` offers and answers (it sends no media): one audio stream, PCMU and
//! PCMA, and an answer that picks from what the offer lists (RFC 3264 §6).

use bytes::Bytes;
use std::net::SocketAddr;

/// Our offer.
pub fn offer(user: &str, addr: SocketAddr) -> Bytes {
    sipxfer_driver::demo::sdp(user, addr)
}

/// An answer to `offer`: its first audio format we know (PCMU, PCMA; else its first), plus
/// telephone-event when offered, and the direction mirrored (RFC 3264 §6.1).
pub fn answer(offer: &[u8], user: &str, addr: SocketAddr) -> Bytes {
    let text = String::from_utf8_lossy(offer);
    let mut formats: Vec<&str> = Vec::new();
    let mut rtpmaps: Vec<(&str, &str)> = Vec::new();
    let mut direction = "sendrecv";
    for line in text.lines() {
        if let Some(m) = line.strip_prefix("m=audio ") {
            formats = m.split_whitespace().skip(2).collect();
        } else if let Some(map) = line.strip_prefix("a=rtpmap:") {
            if let Some((pt, enc)) = map.split_once(' ') {
                rtpmaps.push((pt, enc));
            }
        } else if let Some(d) = line.strip_prefix("a=") {
            direction = match d.trim() {
                "sendonly" => "recvonly",
                "recvonly" => "sendonly",
                "inactive" => "inactive",
                "sendrecv" => "sendrecv",
                _ => direction,
            };
        }
    }
    let codec = ["0", "8"]
        .into_iter()
        .find(|f| formats.contains(f))
        .or(formats.first().copied())
        .unwrap_or("0");
    let dtmf = rtpmaps
        .iter()
        .find(|(pt, enc)| {
            formats.contains(pt) && enc.to_ascii_lowercase().starts_with("telephone-event")
        })
        .copied();
    let (ip, family) = match addr.ip() {
        std::net::IpAddr::V4(a) => (a.to_string(), "IP4"),
        std::net::IpAddr::V6(a) => (a.to_string(), "IP6"),
    };
    let port = addr.port().wrapping_add(1000) & !1;
    let mut fmts = codec.to_string();
    let mut attrs = String::new();
    match rtpmaps.iter().find(|(pt, _)| *pt == codec) {
        Some((pt, enc)) => attrs.push_str(&format!("a=rtpmap:{pt} {enc}\r\n")),
        None if codec == "0" => attrs.push_str("a=rtpmap:0 PCMU/8000\r\n"),
        None if codec == "8" => attrs.push_str("a=rtpmap:8 PCMA/8000\r\n"),
        None => {}
    }
    if let Some((pt, enc)) = dtmf {
        fmts.push_str(&format!(" {pt}"));
        attrs.push_str(&format!("a=rtpmap:{pt} {enc}\r\n"));
    }
    Bytes::from(format!(
        "v=0\r\no={user} 1 1 IN {family} {ip}\r\ns=sipxfer\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {fmts}\r\n{attrs}a={direction}\r\n"
    ))
}

/// Where a peer's session description sends its audio, and in which direction: the
/// `c=` address that applies to the first `m=audio` (its own, else the session's; RFC 4566
/// §5.7), that stream's port, and its direction attribute (RFC 3264 §5.1; `sendrecv` when
/// none is written).
pub fn remote_audio(sdp: &[u8]) -> (Option<String>, Option<u16>, &'static str) {
    let text = String::from_utf8_lossy(sdp);
    // Session level until the first m= line; then the first audio stream's own lines.
    let (mut session_addr, mut addr, mut port) = (None, None, None);
    let (mut session_dir, mut dir) = (None, None);
    let (mut in_media, mut in_audio, mut seen_audio) = (false, false, false);
    for line in text.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            in_media = true;
            in_audio = !seen_audio && m.starts_with("audio ");
            if in_audio {
                seen_audio = true;
                // <port>[/<number of ports>] (RFC 4566 §5.14)
                port = m
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.split('/').next()?.parse().ok());
            }
            continue;
        }
        if in_media && !in_audio {
            continue;
        }
        if let Some(c) = line.strip_prefix("c=") {
            // <nettype> <addrtype> <address>[/<ttl>[/<number>]] (RFC 4566 §5.7)
            let a = c
                .split_whitespace()
                .nth(2)
                .and_then(|a| a.split('/').next())
                .map(str::to_string);
            if in_media {
                addr = a;
            } else {
                session_addr = a;
            }
        } else if let Some(a) = line.strip_prefix("a=") {
            let d = match a.trim() {
                "sendonly" => "sendonly",
                "recvonly" => "recvonly",
                "inactive" => "inactive",
                "sendrecv" => "sendrecv",
                _ => continue,
            };
            if in_media {
                dir = Some(d);
            } else {
                session_dir = Some(d);
            }
        }
    }
    (
        addr.or(session_addr),
        port,
        dir.or(session_dir).unwrap_or("sendrecv"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_where_the_peer_sends_its_audio() {
        let sdp = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
        assert_eq!(
            remote_audio(sdp),
            (Some("10.0.0.1".into()), Some(4000), "sendonly")
        );
        // A media-level c= wins; video before audio is skipped.
        let sdp = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=video 6000 RTP/AVP 96\r\nc=IN IP4 10.0.0.7\r\na=inactive\r\nm=audio 4002 RTP/AVP 0\r\n\
c=IN IP4 10.0.0.9\r\n";
        assert_eq!(
            remote_audio(sdp),
            (Some("10.0.0.9".into()), Some(4002), "sendrecv")
        );
        // A session-level direction holds where the stream has none of its own.
        let sdp = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\na=recvonly\r\n\
t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        assert_eq!(
            remote_audio(sdp),
            (Some("10.0.0.1".into()), Some(4000), "recvonly")
        );
        // A multicast address's TTL and a port count are not part of either.
        let sdp = b"v=0\r\no=- 1 1 IN IP4 224.2.1.1\r\ns=-\r\nc=IN IP4 224.2.1.1/127\r\nt=0 0\r\n\
m=audio 49170/2 RTP/AVP 0\r\n";
        assert_eq!(
            remote_audio(sdp),
            (Some("224.2.1.1".into()), Some(49170), "sendrecv")
        );
        assert_eq!(remote_audio(b"junk"), (None, None, "sendrecv"));
    }

    #[test]
    fn answers_with_an_offered_codec_and_mirrors_direction() {
        let offer = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 9 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n";
        let a = answer(offer, "bob", "127.0.0.1:5062".parse().unwrap());
        let a = std::str::from_utf8(&a).unwrap();
        assert!(a.contains("m=audio 6062 RTP/AVP 8 101\r\n"), "{a}");
        assert!(a.contains("a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"));
        assert!(a.ends_with("a=recvonly\r\n"));
    }
}
