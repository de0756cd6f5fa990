//! Tokio adapter for [`sipxfer`]: one task will own an `Endpoint`, the UDP/TCP sockets and a
//! sleep, and expose a cloneable async handle. This crate is a skeleton until the core has its
//! `Endpoint` (transaction layer); today it offers the one piece of socket glue that does not
//! depend on it.
#![deny(missing_docs)]

use sipxfer::parse::{Limits, StreamDecoder};

/// A TCP read half framed into whole SIP messages (RFC 3261 §18.3), over any tokio reader.
pub struct FramedRead<R> {
    reader: R,
    decoder: StreamDecoder,
}

impl<R: tokio::io::AsyncRead + Unpin> FramedRead<R> {
    /// Wraps a reader.
    pub fn new(reader: R, limits: Limits) -> Self {
        FramedRead {
            reader,
            decoder: StreamDecoder::new(limits),
        }
    }

    /// The next message; `Ok(None)` at end of stream. A framing error is returned as
    /// `InvalidData`: the connection must be closed.
    pub async fn next(&mut self) -> std::io::Result<Option<bytes::Bytes>> {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 4096];
        loop {
            match self.decoder.next_message() {
                Ok(Some(m)) => return Ok(Some(m)),
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            }
            let n = self.reader.read(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            self.decoder.push(&buf[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_a_stream() {
        let wire: &[u8] =
            b"\r\n\r\nBYE sip:a@b SIP/2.0\r\nl: 1\r\n\r\nxOPTIONS sip:b SIP/2.0\r\nl: 0\r\n\r\n";
        let mut r = FramedRead::new(wire, Limits::default());
        assert!(r.next().await.unwrap().unwrap().ends_with(b"x"));
        assert!(r.next().await.unwrap().unwrap().starts_with(b"OPTIONS"));
        assert!(r.next().await.unwrap().is_none());
        let mut bad = FramedRead::new(
            &b"BYE sip:a@b SIP/2.0\r\nl: -1\r\n\r\n"[..],
            Limits::default(),
        );
        assert_eq!(
            bad.next().await.unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
    }
}
