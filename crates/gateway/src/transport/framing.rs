//! Cutting a byte stream into frames at a delimiter, with a bound on frame length. Pure.

use bytes::Bytes;

/// How a stream transport cuts frames: at `delimiter` (MySensors: `\n`), each at most `max_len`
/// bytes. With `\n` as the delimiter a trailing `\r` is removed too. Empty frames are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    pub delimiter: u8,
    pub max_len: usize,
}

impl Framing {
    /// Default longest frame: far above any line protocol we speak (MySensors lines are < 100 bytes).
    pub const DEFAULT_MAX_LEN: usize = 4096;

    pub fn lines() -> Self {
        Framing {
            delimiter: b'\n',
            max_len: Self::DEFAULT_MAX_LEN,
        }
    }
}

/// What [`LineSplitter::push`] finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    Frame(Bytes),
    /// A frame grew past `max_len` without a delimiter. It is reported once, when it crosses
    /// the bound; its bytes up to the next delimiter are then discarded, never buffered.
    TooLong,
}

/// Incremental splitter: holds at most `max_len` bytes of an unfinished frame.
#[derive(Debug)]
pub struct LineSplitter {
    framing: Framing,
    buf: Vec<u8>,
    discarding: bool,
}

impl LineSplitter {
    pub fn new(framing: Framing) -> Self {
        LineSplitter {
            framing,
            buf: Vec::new(),
            discarding: false,
        }
    }

    /// Feeds bytes read from the stream; appends what they complete to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Split>) {
        let Framing { delimiter, max_len } = self.framing;
        while !data.is_empty() {
            let (chunk, ends_frame, rest) = match data.iter().position(|b| *b == delimiter) {
                Some(i) => (&data[..i], true, &data[i + 1..]),
                None => (data, false, &data[data.len()..]),
            };
            data = rest;
            if !self.discarding {
                if self.buf.len() + chunk.len() > max_len {
                    self.buf = Vec::new();
                    self.discarding = true;
                    out.push(Split::TooLong);
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            if ends_frame {
                if self.discarding {
                    self.discarding = false;
                } else {
                    let mut frame = std::mem::take(&mut self.buf);
                    if delimiter == b'\n' && frame.last() == Some(&b'\r') {
                        frame.pop();
                    }
                    if !frame.is_empty() {
                        out.push(Split::Frame(Bytes::from(frame)));
                    }
                }
            }
        }
    }

    pub fn max_len(&self) -> usize {
        self.framing.max_len
    }

    /// Bytes held of an unfinished frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(framing: Framing, chunks: &[&[u8]]) -> Vec<Split> {
        let mut s = LineSplitter::new(framing);
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        out
    }

    fn frame(s: &str) -> Split {
        Split::Frame(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn cuts_at_the_delimiter_across_reads() {
        let out = split(Framing::lines(), &[b"0;1;", b"3;0;9;hi\r\n\n1;", b"2\n"]);
        assert_eq!(out, vec![frame("0;1;3;0;9;hi"), frame("1;2")]);
        let out = split(
            Framing {
                delimiter: b'|',
                max_len: 10,
            },
            &[b"a|b\r|"],
        );
        assert_eq!(out, vec![frame("a"), frame("b\r")]);
    }

    #[test]
    fn a_mebibyte_without_newline_is_discarded_not_buffered() {
        let mut s = LineSplitter::new(Framing::lines());
        let mut out = Vec::new();
        let block = vec![b'x'; 64 * 1024];
        for _ in 0..16 {
            s.push(&block, &mut out);
            assert!(s.buffered() <= Framing::DEFAULT_MAX_LEN);
        }
        assert_eq!(out, vec![Split::TooLong]);
        s.push(b"tail of the long one\n1;2;3\n", &mut out);
        assert_eq!(out, vec![Split::TooLong, frame("1;2;3")]);
    }

    #[test]
    fn a_frame_of_exactly_max_len_passes() {
        let f = Framing {
            delimiter: b'\n',
            max_len: 4,
        };
        assert_eq!(
            split(f, &[b"abcd\nabcde\nok\n"]),
            vec![frame("abcd"), Split::TooLong, frame("ok")]
        );
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_the_frames(
            lines in proptest::collection::vec("[a-z0-9;]{1,20}", 0..20),
            cuts in proptest::collection::vec(0usize..400, 0..10),
        ) {
            let stream: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts {
                chunks.push(&stream[last..c]);
                last = c;
            }
            chunks.push(&stream[last..]);
            let expected: Vec<Split> = lines.iter().map(|l| frame(l)).collect();
            prop_assert_eq!(split(Framing::lines(), &chunks), expected);
        }
    }
}
