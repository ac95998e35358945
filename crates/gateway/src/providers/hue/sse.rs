//! Server-Sent Events (the HTML "event stream" format) as the bridge's `/eventstream/clip/v2`
//! sends them: `id:` and `data:` lines, an empty line ends an event, `:` starts a comment (the
//! bridge greets with `: hi`). Bytes in, events out; no I/O.

/// Largest event kept (its `data` lines together). A bigger one is skipped up to its end and
/// reported once, so one runaway event cannot grow memory without bound.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// The last `id:` seen (the bridge's `<seconds>:<n>`).
    pub id: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    /// The current event went over [`MAX_EVENT_BYTES`]; its lines are dropped until it ends.
    skipping: bool,
}

/// One decoded item: an event, or the reason an event was dropped.
pub type SseItem = Result<SseEvent, String>;

impl SseDecoder {
    pub fn new() -> SseDecoder {
        SseDecoder::default()
    }

    /// Feeds bytes as they arrive; returns the events they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseItem> {
        let mut out = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                if self.skipping {
                    continue;
                }
                if self.line.len() + self.data.len() >= MAX_EVENT_BYTES {
                    self.skip(&mut out);
                    continue;
                }
                self.line.push(b);
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                if !std::mem::take(&mut self.skipping) && self.has_data {
                    out.push(Ok(SseEvent {
                        id: self.last_id.clone(),
                        data: std::mem::take(&mut self.data),
                    }));
                }
                self.data.clear();
                self.has_data = false;
            } else if !self.skipping {
                self.field(&line, &mut out);
            }
        }
        out
    }

    fn skip(&mut self, out: &mut Vec<SseItem>) {
        self.skipping = true;
        self.line.clear();
        self.data.clear();
        self.has_data = false;
        out.push(Err(format!(
            "an event larger than {MAX_EVENT_BYTES} bytes, skipped"
        )));
    }

    fn field(&mut self, line: &[u8], out: &mut Vec<SseItem>) {
        if line.first() == Some(&b':') {
            return;
        }
        let line = String::from_utf8_lossy(line);
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match name {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
                if self.data.len() > MAX_EVENT_BYTES {
                    self.skip(out);
                }
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            // `event`, `retry` and unknown fields carry nothing the bridge uses.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(d: &mut SseDecoder, chunks: &[&[u8]]) -> Vec<SseItem> {
        chunks.iter().flat_map(|c| d.push(c)).collect()
    }

    #[test]
    fn events_comments_ids_and_split_chunks() {
        let mut d = SseDecoder::new();
        let out = all(
            &mut d,
            &[
                b": hi\n\nid: 1:0\nda",
                b"ta: [1,\r\ndata: 2]\r\n",
                b"\r\nevent: x\n\n",
            ],
        );
        assert_eq!(
            out,
            vec![Ok(SseEvent {
                id: Some("1:0".into()),
                data: "[1,\n2]".into()
            })]
        );
    }

    #[test]
    fn an_oversized_event_is_skipped_and_the_next_one_arrives() {
        let mut d = SseDecoder::new();
        let big = vec![b'x'; MAX_EVENT_BYTES + 10];
        let mut out = d.push(b"data: ");
        out.extend(d.push(&big));
        out.extend(d.push(b"\n\ndata: ok\n\n"));
        assert_eq!(
            out.len(),
            2,
            "{:?}",
            out.iter().map(|r| r.is_ok()).collect::<Vec<_>>()
        );
        assert!(out[0].as_ref().unwrap_err().contains("larger"));
        assert_eq!(out[1].as_ref().unwrap().data, "ok");
    }

    proptest! {
        /// However the stream is cut into chunks, the same events come out.
        #[test]
        fn chunking_does_not_matter(cut in proptest::collection::vec(0usize..200, 0..8)) {
            let stream = b": hi\n\nid: 7:0\ndata: {\"a\":1}\n\ndata: b\ndata: c\n\n";
            let whole = SseDecoder::new().push(stream);
            let mut d = SseDecoder::new();
            let mut cuts: Vec<usize> = cut.into_iter().map(|c| c % stream.len()).collect();
            cuts.sort();
            let mut out = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([stream.len()]) {
                out.extend(d.push(&stream[at..c]));
                at = c;
            }
            prop_assert_eq!(out, whole);
        }
    }
}
