//! A CSV file's header and records with their line numbers. Line numbers
//! are counted here from each record's byte offset rather than taken from
//! the csv crate, which counts a CRLF file's line breaks one record late; a
//! record that spans lines (a quoted line break) is named by the line it
//! starts on.
//!
//! Excel's delimiter hint, a first line `sep=;`, names the delimiter and is
//! not the header; lines are still counted from the top of the file.

use super::Reject;

/// 1-based line numbers of byte offsets, counted forwards once.
pub(super) struct Lines<'t> {
    text: &'t [u8],
    at: usize,
    line: u64,
}

impl<'t> Lines<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line a record starting at `byte` begins on. The csv reader's
    /// offset may point at the line break before it (the `\n` of a CRLF):
    /// line breaks at the offset are skipped.
    pub(super) fn of(&mut self, byte: u64) -> u64 {
        let mut start = (byte as usize).min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.at {
            return self.line;
        }
        for i in self.at..start {
            match self.text[i] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.at = start;
        self.line
    }
}

/// A CSV file's header and records with their line numbers; a record the
/// csv reader cannot read, or with another number of fields than the
/// header, is a reject with its line.
pub(super) struct Table<'t> {
    pub headers: csv::StringRecord,
    /// The line of the header: 1, or 2 after a `sep=` line.
    pub header_line: u64,
    reader: csv::Reader<&'t [u8]>,
    lines: Lines<'t>,
    delimiter: u8,
    /// Bytes before the header (Excel's `sep=` line): the reader's offsets
    /// start after them.
    skipped: u64,
}

/// Excel's `sep=X` first line: the delimiter it names and the bytes of the
/// line with its line break.
fn separator_hint(text: &str) -> Option<(u8, usize)> {
    let rest = text.strip_prefix("sep=")?;
    let delimiter = *rest.as_bytes().first().filter(|b| b.is_ascii())?;
    let after = &rest[1..];
    let line_end = after.len() - after.trim_start_matches([' ', '\t']).len();
    let after = &after[line_end..];
    let newline = if after.starts_with("\r\n") {
        2
    } else if after.starts_with(['\n', '\r']) {
        1
    } else {
        return None;
    };
    (delimiter.is_ascii_punctuation() || delimiter == b'\t')
        .then_some((delimiter, 5 + line_end + newline))
}

impl<'t> Table<'t> {
    pub(super) fn open(text: &'t str, delimiter: Option<u8>) -> std::result::Result<Self, Reject> {
        let hint = separator_hint(text);
        let skipped = hint.map_or(0, |(_, len)| len);
        let body = &text[skipped..];
        // A delimiter the user names wins over the file's hint.
        let delimiter = delimiter
            .or(hint.map(|(d, _)| d))
            .unwrap_or_else(|| super::text::detect_delimiter(body));
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .delimiter(delimiter)
            .from_reader(body.as_bytes());
        let header_line = if hint.is_some() { 2 } else { 1 };
        let headers = reader.headers().map_err(|e| Reject {
            location: format!("line {header_line}"),
            field: "header".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            headers: headers.clone(),
            header_line,
            reader,
            lines: Lines::new(text),
            delimiter,
            skipped: skipped as u64,
        })
    }

    /// The next record with its line, or a reject for a record that cannot
    /// be read; `None` at the end. Rows with nothing in any cell (what
    /// Excel writes for formatted empty rows) are passed over.
    pub(super) fn next(&mut self) -> Option<std::result::Result<(u64, csv::StringRecord), Reject>> {
        let mut record = csv::StringRecord::new();
        loop {
            return match self.reader.read_record(&mut record) {
                Ok(false) => None,
                Ok(true) => {
                    let line = self
                        .lines
                        .of(self.skipped + record.position().map_or(0, csv::Position::byte));
                    if record.iter().all(str::is_empty) {
                        continue;
                    }
                    if record.len() != self.headers.len() {
                        let sep = match self.delimiter {
                            b'\t' => "tab".to_owned(),
                            d => format!("`{}`", char::from(d)),
                        };
                        return Some(Err(Reject {
                            location: format!("line {line}"),
                            field: String::new(),
                            reason: format!(
                                "has {} fields where the header has {} (a {sep} inside a value that is not in quotes?)",
                                record.len(),
                                self.headers.len()
                            ),
                        }));
                    }
                    Some(Ok((line, record)))
                }
                Err(e) => {
                    let line = self
                        .lines
                        .of(self.skipped + e.position().map_or(0, csv::Position::byte));
                    let reason = match e.kind() {
                        csv::ErrorKind::Utf8 { .. } => "is not valid text".to_owned(),
                        _ => e.to_string(),
                    };
                    Some(Err(Reject {
                        location: format!("line {line}"),
                        field: String::new(),
                        reason,
                    }))
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str, delimiter: Option<u8>) -> (Vec<String>, Vec<u64>) {
        let mut t = Table::open(text, delimiter).unwrap();
        let headers = t.headers.iter().map(str::to_owned).collect();
        let mut lines = Vec::new();
        while let Some(Ok((line, _))) = t.next() {
            lines.push(line);
        }
        (headers, lines)
    }

    #[test]
    fn excels_sep_line_names_the_delimiter_and_is_not_the_header() {
        let (headers, lines) = lines_of("sep=;\r\na;b,c\r\n1;2,5\r\n\r\n3;4\r\n", None);
        assert_eq!(headers, ["a", "b,c"]);
        assert_eq!(lines, [3, 5], "lines counted from the top of the file");
        // A delimiter the user names wins; without a line break it is data.
        assert_eq!(lines_of("sep=;\na,b\n1,2\n", Some(b',')).0, ["a", "b"]);
        assert_eq!(separator_hint("sep=;"), None);
        assert_eq!(separator_hint("sep=\t\n"), Some((b'\t', 6)));
        assert_eq!(separator_hint("sep=å\n"), None, "not a panic");
    }
}
