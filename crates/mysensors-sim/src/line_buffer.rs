//! Splits a byte stream into lines with a bound: a line longer than the bound is dropped (and
//! reported once) up to its newline, so one runaway sender cannot grow memory.

/// Longest line kept, terminator excluded. A MySensors line is at most ~280 bytes (five numbers
/// and a 256-byte log payload).
pub const MAX_LINE: usize = 512;

#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Line(Vec<u8>),
    /// A line of at least this many bytes was dropped.
    Overlong(usize),
}

#[derive(Debug, Default)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Bytes of an overlong line dropped so far; `Some` until its newline arrives.
    discarding: Option<usize>,
}

impl LineBuffer {
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<Piece>) {
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (head, rest) = match newline {
                Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
                None => (bytes, None),
            };
            if let Some(dropped) = &mut self.discarding {
                *dropped += head.len();
            } else if self.buf.len() + head.len() > MAX_LINE {
                self.discarding = Some(self.buf.len() + head.len());
                self.buf.clear();
            } else {
                self.buf.extend_from_slice(head);
            }
            match rest {
                Some(rest) => {
                    match self.discarding.take() {
                        Some(dropped) => out.push(Piece::Overlong(dropped)),
                        None => out.push(Piece::Line(std::mem::take(&mut self.buf))),
                    }
                    bytes = rest;
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Piece> {
        let mut buffer = LineBuffer::default();
        let mut out = Vec::new();
        for chunk in chunks {
            buffer.push(chunk, &mut out);
        }
        out
    }

    #[test]
    fn lines_across_chunks() {
        assert_eq!(
            split(&[b"1;2;", b"3\n4;5\n6"]),
            vec![Piece::Line(b"1;2;3".to_vec()), Piece::Line(b"4;5".to_vec())]
        );
        assert_eq!(split(&[b"\n"]), vec![Piece::Line(vec![])]);
    }

    #[test]
    fn an_overlong_line_is_dropped_and_the_next_one_kept() {
        let long = vec![b'x'; MAX_LINE + 10];
        let out = split(&[&long[..300], &long[300..], b"tail\nok\n"]);
        assert_eq!(
            out,
            vec![Piece::Overlong(MAX_LINE + 14), Piece::Line(b"ok".to_vec())]
        );
        let exact = vec![b'y'; MAX_LINE];
        let mut with_newline = exact.clone();
        with_newline.push(b'\n');
        assert_eq!(split(&[&with_newline]), vec![Piece::Line(exact)]);
    }
}
