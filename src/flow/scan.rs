//! Finding where the next element ends, across any number of chunks.
//!
//! An *element* is the unit the grammar parsers of [`crate::http`] take whole: a line, or a
//! header field together with its continuation lines. The scanner is resumable: fed the bytes
//! of one element in any number of pieces, it reaches the same end at the same offset, and it
//! looks at each byte once (the 2024 libhtp CVEs were re-scans of partial lines).

/// What kind of element is being scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ElementKind {
    /// Ends at the first LF.
    Line,
    /// A header field: ends at an LF not followed by SP or HTAB, so the byte after the LF must
    /// be seen before the field is complete. An empty first line (the end of the header
    /// block) ends at its LF.
    Field,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    InLine,
    AfterLf,
}

/// Resumable element-end finder; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scanner {
    kind: ElementKind,
    phase: Phase,
    /// Bytes of the element seen so far, terminators included.
    total: usize,
    /// Bytes of the current line before its LF.
    line_len: usize,
    /// First byte of the element, to tell an empty line ("\n" or "\r\n").
    first: Option<u8>,
    folds: u32,
    max_folds: u32,
    /// The fold limit was reached: a further continuation line starts a new element.
    folds_exceeded: bool,
}

impl Scanner {
    pub(crate) fn new(kind: ElementKind, max_folds: u32) -> Scanner {
        Scanner {
            kind,
            phase: Phase::InLine,
            total: 0,
            line_len: 0,
            first: None,
            folds: 0,
            max_folds,
            folds_exceeded: false,
        }
    }

    /// Bytes of the element seen so far.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Whether the element ended at the fold limit.
    pub(crate) fn folds_exceeded(&self) -> bool {
        self.folds_exceeded
    }

    /// Whether the element is inside a line it has already started, where bytes other than LF
    /// only extend the line ([`Scanner::extend_line`]).
    #[inline]
    pub(crate) fn continues_line(&self) -> bool {
        self.phase == Phase::InLine && self.first.is_some()
    }

    /// Whether `data` may continue this element past an LF: only a header field goes on
    /// after one, when the next line is a continuation (SP or HTAB). A cheap test before
    /// scanning; [`Scanner::scan`] decides.
    #[inline]
    pub(crate) fn may_continue_field(&self, data: &[u8]) -> bool {
        self.kind == ElementKind::Field
            && match self.phase {
                Phase::InLine => true,
                Phase::AfterLf => matches!(data.first(), Some(b' ' | b'\t')),
            }
    }

    /// This scanner after `data`, when `data` does not end the element (`None` when it
    /// does). Out of line: the fast path that calls it must stay small.
    #[inline(never)]
    pub(crate) fn scanned_past(mut self, data: &[u8]) -> Option<Scanner> {
        match self.scan(data) {
            Some(_) => None,
            None => Some(self),
        }
    }

    /// This scanner after the one byte `byte`, when it does not end the element (`None` when
    /// it does): [`Scanner::scanned_past`] for a one-byte piece, without the scan loop and
    /// its `memchr` call, so that a caller feeding a byte at a time (an obs-fold line, a
    /// header split before its LF) stays on the fast path.
    #[inline(always)]
    pub(crate) fn stepped(mut self, byte: u8) -> Option<Scanner> {
        match self.phase {
            Phase::InLine => {
                let first = *self.first.get_or_insert(byte);
                self.total += 1;
                if byte != b'\n' {
                    self.line_len += 1;
                    return Some(self);
                }
                let empty_first_line = self.folds == 0
                    && (self.line_len == 0 || (self.line_len == 1 && first == b'\r'));
                if self.kind == ElementKind::Line || empty_first_line {
                    return None;
                }
                self.line_len = 0;
                self.phase = Phase::AfterLf;
                Some(self)
            }
            Phase::AfterLf => {
                if (byte != b' ' && byte != b'\t') || self.folds >= self.max_folds {
                    return None;
                }
                self.folds += 1;
                self.phase = Phase::InLine;
                self.total += 1;
                self.line_len = 1;
                Some(self)
            }
        }
    }

    /// Takes `n` more bytes of the current line, none of them LF: what [`Scanner::scan`] does
    /// with them when [`Scanner::continues_line`] holds.
    #[inline]
    pub(crate) fn extend_line(&mut self, n: usize) {
        self.total += n;
        self.line_len += n;
    }

    /// Takes `data`, which the caller knows holds no LF, as [`Scanner::scan`] would (it
    /// returns `None` for it): the current line goes on.
    #[inline]
    pub(crate) fn take_without_lf(&mut self, data: &[u8]) {
        // After an LF the next byte decides whether the field goes on, which scan() looks
        // at; callers pass data only to a scanner inside a line or to a new one.
        debug_assert_eq!(self.phase, Phase::InLine, "take_without_lf after an LF");
        if self.first.is_none() {
            self.first = data.first().copied();
        }
        self.total += data.len();
        self.line_len += data.len();
    }

    /// Scans the next piece of the element. Returns `Some(n)` when the element ends after the
    /// first `n` bytes of `data`, `None` when all of `data` belongs to it and more is needed.
    #[inline]
    pub(crate) fn scan(&mut self, data: &[u8]) -> Option<usize> {
        self.scan_known(data, None)
    }

    /// [`Scanner::scan`], told where the first LF of `data` is when the caller already
    /// searched for it (a fast path that looked at the piece first), so that it is not
    /// searched for twice.
    pub(crate) fn scan_known(&mut self, data: &[u8], first_lf: Option<usize>) -> Option<usize> {
        debug_assert!(
            first_lf.is_none() || first_lf == memchr::memchr(b'\n', data),
            "first_lf is not the first LF"
        );
        let mut known = first_lf;
        let mut i = 0;
        loop {
            match self.phase {
                Phase::InLine => {
                    let rest = data.get(i..)?;
                    if self.first.is_none() {
                        self.first = rest.first().copied();
                    }
                    // The first line is scanned from `i` = 0 (after an LF only a fold
                    // continues, and the fold byte is part of the line): there the known
                    // position is the answer; later lines are searched.
                    let lf = known.take().or_else(|| memchr::memchr(b'\n', rest));
                    match lf {
                        None => {
                            self.take_without_lf(rest);
                            return None;
                        }
                        Some(k) => {
                            let line_len = self.line_len + k;
                            i += k + 1;
                            self.total += k + 1;
                            self.line_len = 0;
                            match self.kind {
                                ElementKind::Line => return Some(i),
                                ElementKind::Field => {
                                    let empty_first_line = self.folds == 0
                                        && (line_len == 0
                                            || (line_len == 1 && self.first == Some(b'\r')));
                                    if empty_first_line {
                                        return Some(i);
                                    }
                                    self.phase = Phase::AfterLf;
                                }
                            }
                        }
                    }
                }
                Phase::AfterLf => {
                    let next = *data.get(i)?;
                    if next == b' ' || next == b'\t' {
                        if self.folds >= self.max_folds {
                            self.folds_exceeded = true;
                            return Some(i);
                        }
                        self.folds += 1;
                        self.phase = Phase::InLine;
                    } else {
                        return Some(i);
                    }
                }
            }
        }
    }

    /// Whether the element is complete if the stream ends now (only the fold look-ahead was
    /// missing), as opposed to cut in the middle of a line.
    pub(crate) fn complete_at_eof(&self) -> bool {
        self.phase == Phase::AfterLf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(kind: ElementKind, data: &[u8]) -> Option<usize> {
        Scanner::new(kind, 8).scan(data)
    }

    #[test]
    fn lines_end_at_lf() {
        assert_eq!(
            whole(ElementKind::Line, b"GET / HTTP/1.1\r\nHost"),
            Some(16)
        );
        assert_eq!(whole(ElementKind::Line, b"abc"), None);
    }

    #[test]
    fn fields_need_the_next_byte() {
        assert_eq!(whole(ElementKind::Field, b"Host: a\r\n"), None);
        assert_eq!(whole(ElementKind::Field, b"Host: a\r\nX"), Some(9));
        assert_eq!(
            whole(ElementKind::Field, b"Host: a\r\n b\r\n\r\n"),
            Some(13)
        );
        assert_eq!(whole(ElementKind::Field, b"\r\nGET"), Some(2));
        assert_eq!(whole(ElementKind::Field, b"\nGET"), Some(1));
    }

    #[test]
    fn fold_limit_ends_the_field() {
        let mut s = Scanner::new(ElementKind::Field, 1);
        assert_eq!(s.scan(b"A: 1\r\n 2\r\n 3\r\n\r\n"), Some(10));
        assert!(s.folds_exceeded());
    }

    #[test]
    fn every_split_finds_the_same_end() {
        let data = b"X-aws-ec2-metadata-token: abc\r\n\tdef\r\n \r\nNext: 1\r\n";
        let expect = whole(ElementKind::Field, data).expect("complete");
        for split in 0..data.len() {
            let mut s = Scanner::new(ElementKind::Field, 8);
            let got = match s.scan(&data[..split]) {
                Some(n) => n,
                None => split + s.scan(&data[split..]).expect("complete"),
            };
            assert_eq!(got, expect, "split at {split}");
            assert_eq!(s.total(), expect);
        }
    }

    /// Told where the first LF is, the scanner ends where its own search ends, in every state
    /// a split leaves it in: after an LF (the next byte decides), inside a line or a fold.
    #[test]
    fn a_known_first_lf_gives_the_same_end() {
        let data = b"X-aws-ec2-metadata-token: abc\r\n\tdef\r\n \r\nNext: 1\r\n";
        for kind in [ElementKind::Line, ElementKind::Field] {
            for split in 0..data.len() {
                let (head, tail) = data.split_at(split);
                let mut searched = Scanner::new(kind, 1);
                if searched.scan(head).is_some() {
                    continue;
                }
                let mut told = searched;
                let first_lf = tail.iter().position(|&b| b == b'\n');
                assert_eq!(
                    told.scan_known(tail, first_lf),
                    searched.scan(tail),
                    "{kind:?}, split at {split}"
                );
                assert_eq!(told, searched, "{kind:?}, split at {split}");
            }
        }
    }

    /// Every scanner state that some input reaches, stepped by every byte, equals scanning
    /// that byte: the inputs are all strings of up to six bytes over the alphabet that
    /// matters to the scanner, with a fold limit of one so that the limit is reached.
    #[test]
    fn stepping_a_byte_is_scanning_it() {
        const ALPHABET: [u8; 5] = [b'\r', b'\n', b' ', b'\t', b'a'];
        let mut checked = 0;
        for kind in [ElementKind::Line, ElementKind::Field] {
            let mut states = vec![Scanner::new(kind, 1)];
            for _ in 0..6 {
                let mut next = Vec::new();
                for s in &states {
                    for byte in ALPHABET {
                        let scanned = s.scanned_past(&[byte]);
                        assert_eq!(s.stepped(byte), scanned, "{s:?} + {byte:#04x}");
                        checked += 1;
                        next.extend(scanned);
                    }
                }
                states = next;
            }
        }
        assert!(checked > 1000, "only {checked} states checked");
    }

    #[test]
    fn extending_a_line_is_scanning_bytes_without_lf() {
        for kind in [ElementKind::Line, ElementKind::Field] {
            let (mut scanned, mut extended) = (Scanner::new(kind, 8), Scanner::new(kind, 8));
            assert!(!scanned.continues_line(), "nothing started yet");
            assert_eq!(scanned.scan(b"X-a"), None);
            assert_eq!(extended.scan(b"X"), None);
            assert!(extended.continues_line());
            extended.extend_line(2);
            assert_eq!(scanned, extended);
            assert_eq!(scanned.scan(b"b\r\n"), extended.scan(b"b\r\n"));
            assert_eq!(scanned, extended);
            if kind == ElementKind::Field {
                assert!(
                    !scanned.continues_line(),
                    "after an LF the next byte decides"
                );
            }
        }
    }
}
