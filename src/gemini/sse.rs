//! Incremental parser for `text/event-stream` as `streamGenerateContent?alt=sse` sends it.
//! Bytes go in as they arrive (split anywhere, even inside a UTF-8 character); whole events come out.

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` that starts the next chunk belongs to the same line end.
    after_cr: bool,
    /// Whether the first line has been seen (a UTF-8 BOM is only skipped there).
    started: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    /// Lines that are no SSE field (Gemini may break a stream off with its error JSON written unframed).
    stray: String,
}

/// Stray text kept at most: enough for any error body, not for a runaway stream.
const MAX_STRAY: usize = 64 * 1024;

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the events completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let mut input = bytes;
        // Only the next byte decides whether a `\r` was a CRLF: an empty chunk in between changes nothing.
        if self.after_cr && !input.is_empty() {
            if input[0] == b'\n' {
                input = &input[1..];
            }
            self.after_cr = false;
        }
        // The buffer holds no line end (see the `drain` below): only the new bytes need scanning, so a
        // long line arriving in many chunks costs linear time.
        let mut i = self.buf.len();
        self.buf.extend_from_slice(input);
        let mut start = 0;
        while i < self.buf.len() {
            let b = self.buf[i];
            if b == b'\n' || b == b'\r' {
                let line_end = i;
                if b == b'\r' {
                    if i + 1 < self.buf.len() {
                        if self.buf[i + 1] == b'\n' {
                            i += 1;
                        }
                    } else {
                        self.after_cr = true;
                    }
                }
                let line = std::mem::take(&mut self.buf);
                self.line(&line[start..line_end], &mut out);
                self.buf = line;
                start = i + 1;
            }
            i += 1;
        }
        self.buf.drain(..start);
        out
    }

    /// Ends the stream: an event whose blank line never came is still delivered.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let mut out = Vec::new();
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.line(&rest, &mut out);
        }
        self.after_cr = false;
        self.dispatch(&mut out);
        out.pop()
    }

    fn line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) {
        let mut raw = raw;
        if !self.started {
            self.started = true;
            if raw.starts_with(&[0xEF, 0xBB, 0xBF]) {
                raw = &raw[3..];
            }
        }
        if raw.is_empty() {
            self.dispatch(out);
            return;
        }
        if raw[0] == b':' {
            return;
        }
        let (name, value) = match raw.iter().position(|&c| c == b':') {
            Some(p) => {
                let v = &raw[p + 1..];
                (&raw[..p], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (raw, &b""[..]),
        };
        let value = crate::text::lossy(value);
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = Some(value),
            b"id" | b"retry" => {}
            _ if self.stray.len() < MAX_STRAY => {
                self.stray.push_str(&crate::text::lossy(raw));
                self.stray.push('\n');
            }
            _ => {}
        }
    }

    /// The lines so far that were no SSE field, one per line.
    pub fn take_stray(&mut self) -> String {
        std::mem::take(&mut self.stray)
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if self.has_data {
            self.has_data = false;
            out.push(SseEvent { event, data: std::mem::take(&mut self.data) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<String> {
        let mut p = SseParser::new();
        let mut got: Vec<String> = chunks.iter().flat_map(|c| p.push(c)).map(|e| e.data).collect();
        got.extend(p.finish().map(|e| e.data));
        got
    }

    const STREAM: &str = "data: {\"a\":1}\r\n\r\ndata:{\"b\":\"é€😀\"}\n\n: keep-alive\n\ndata: x\rdata: y\r\r";

    #[test]
    fn lines_that_are_no_field_are_kept_aside() {
        let mut p = SseParser::new();
        let events = p.push(b"data: 1\r\n\r\nid: 7\r\nretry: 10\r\n{\n  \"error\": {\n    \"code\": 503\n  }\n}\n");
        assert_eq!(events.len(), 1);
        assert_eq!(p.finish(), None);
        assert_eq!(p.take_stray(), "{\n  \"error\": {\n    \"code\": 503\n  }\n}\n");
        assert_eq!(p.take_stray(), "");
    }

    #[test]
    fn every_separator_and_prefix_form() {
        assert_eq!(all(&[STREAM.as_bytes()]), vec!["{\"a\":1}", "{\"b\":\"é€😀\"}", "x\ny"]);
    }

    #[test]
    fn split_at_every_byte_offset_gives_the_same_events() {
        let whole = all(&[STREAM.as_bytes()]);
        let bytes = STREAM.as_bytes();
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                assert_eq!(all(&[&bytes[..i], &bytes[i..j], &bytes[j..]]), whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let bytes = STREAM.as_bytes();
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(all(&chunks), all(&[bytes]));
    }

    #[test]
    fn partial_event_at_eof_is_delivered() {
        assert_eq!(all(&[b"data: {\"a\":1}\n\ndata: {\"b\":"]), vec!["{\"a\":1}", "{\"b\":"]);
        assert_eq!(all(&[b"data: last\n"]), vec!["last"]);
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_end() {
        assert_eq!(all(&[b"data: a\r", b"\n", b"\r", b"\ndata: b\r\n\r\n"]), vec!["a", "b"]);
    }

    #[test]
    fn bom_event_name_and_empty_data() {
        let mut p = SseParser::new();
        let ev = p.push(b"\xEF\xBB\xBFevent: error\ndata\n\n");
        assert_eq!(ev, vec![SseEvent { event: Some("error".into()), data: String::new() }]);
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let s = "data: 😀\n\n".as_bytes();
        assert_eq!(all(&[&s[..7], &s[7..]]), vec!["😀"]);
    }
}
