//! async-io / futures-lite adapter for [`sipxfer`] (runs under async-std and smol). A skeleton
//! until the core has its `Endpoint`; today it frames TCP streams.
#![deny(missing_docs)]

use sipxfer::parse::{Limits, StreamDecoder};

/// A TCP read half framed into whole SIP messages (RFC 3261 §18.3), over any futures reader.
pub struct FramedRead<R> {
    reader: R,
    decoder: StreamDecoder,
}

impl<R: futures_lite::AsyncRead + Unpin> FramedRead<R> {
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
        use futures_lite::AsyncReadExt;
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

/// Re-exported so users can name the executor-agnostic socket type.
pub use async_io::Async;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_a_stream() {
        futures_lite::future::block_on(async {
            let wire: &[u8] = b"BYE sip:a@b SIP/2.0\r\nl: 1\r\n\r\nx\r\n\r\nOPTIONS sip:b SIP/2.0\r\nl: 0\r\n\r\n";
            let mut r = FramedRead::new(wire, Limits::default());
            assert!(r.next().await.unwrap().unwrap().ends_with(b"x"));
            assert!(r.next().await.unwrap().unwrap().starts_with(b"OPTIONS"));
            assert!(r.next().await.unwrap().is_none());
        });
    }
}
