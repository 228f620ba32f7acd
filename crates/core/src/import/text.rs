//! Bytes to text, as files really arrive: gzip-compressed or not (known by
//! its magic bytes, whatever the name), UTF-8 with or without a byte-order
//! mark, UTF-16 with one (Excel's "Unicode text"), and otherwise
//! Windows-1252, which Swedish Excel writes for "CSV (semikolonavgränsad)".
//! Windows-1252 is only a fallback for bytes that are not valid UTF-8:
//! every UTF-8 file is read as UTF-8. The decoding is encoding_rs's.
//!
//! The CSV delimiter is detected here too: the one of comma, semicolon and
//! tab that splits the first lines into the same number of fields.

use std::borrow::Cow;
use std::io::Read;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::Reject;

/// A decompressed file larger than this is refused (a gzip bomb, or a file
/// far beyond what one import should hold).
const MAX_TEXT_BYTES: u64 = 2 << 30;

/// Which encoding to read a file in: detected, or named by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    #[default]
    Detect,
    Named(&'static Encoding),
}

impl TextEncoding {
    /// Parses `utf-8`, `windows-1252`, `cp1252`, `latin1`, `iso-8859-1`,
    /// `utf-16le` … (the WHATWG labels; `latin1` is Windows-1252 there, as
    /// browsers and Excel treat it), or `auto`.
    pub fn parse(s: &str, field: &str) -> crate::Result<Self> {
        let label = s.trim();
        if label.eq_ignore_ascii_case("auto") || label.is_empty() {
            return Ok(Self::Detect);
        }
        Encoding::for_label(label.as_bytes())
            .map(Self::Named)
            .ok_or_else(|| {
                crate::Error::invalid(
                    field,
                    format!(
                        "`{label}` is not an encoding Trygg knows; use utf-8, windows-1252, iso-8859-15, utf-16le or auto"
                    ),
                )
            })
    }
}

/// The text of a file and what was done to read it.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// The encoding the text was read in.
    pub encoding: &'static Encoding,
    /// Whether the encoding was a guess made because the bytes were not
    /// UTF-8 (worth telling the user once).
    pub fell_back: bool,
    pub gzip: bool,
}

fn unreadable(reason: impl Into<String>) -> Reject {
    Reject {
        location: "file".into(),
        field: String::new(),
        reason: reason.into(),
    }
}

/// Decompresses gzip (by its magic bytes) and decodes the text.
pub fn decode(bytes: &[u8], encoding: TextEncoding) -> Result<Decoded<'_>, Reject> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut raw = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut raw)
            .map_err(|e| {
                unreadable(format!(
                    "the file is gzip-compressed but cannot be decompressed ({e}); is it complete?"
                ))
            })?;
        if raw.len() as u64 > MAX_TEXT_BYTES {
            return Err(unreadable(
                "the file decompresses to more than 2 GiB; split it into smaller files",
            ));
        }
        let inner = decode(&raw, encoding)?;
        return Ok(Decoded {
            text: Cow::Owned(inner.text.into_owned()),
            encoding: inner.encoding,
            fell_back: inner.fell_back,
            gzip: true,
        });
    }
    if bytes.is_empty() {
        return Err(unreadable("the file is empty"));
    }
    if let Some(kind) = binary_kind(bytes) {
        return Err(unreadable(kind));
    }
    let (text, encoding, fell_back) = match encoding {
        TextEncoding::Named(e) => {
            let (text, used, had_errors) = e.decode(bytes);
            if had_errors {
                let line = first_bad_line(bytes, used);
                return Err(unreadable(format!(
                    "line {line} is not valid {}; leave out --encoding to have it detected",
                    used.name()
                )));
            }
            (text, used, false)
        }
        TextEncoding::Detect => {
            if let Some((e, bom)) = Encoding::for_bom(bytes) {
                let (text, had_errors) = e.decode_without_bom_handling(&bytes[bom..]);
                if had_errors {
                    return Err(unreadable(format!(
                        "the file starts with a {} byte-order mark but is not valid {}",
                        e.name(),
                        e.name()
                    )));
                }
                (text, e, false)
            } else if bytes.contains(&0) {
                // No text file holds NUL; UTF-16 without its mark does.
                return Err(unreadable(
                    "the file holds NUL bytes and is not text (UTF-16 without a byte-order mark? name it with --encoding utf-16le)",
                ));
            } else if let Ok(text) = std::str::from_utf8(bytes) {
                (Cow::Borrowed(text), UTF_8, false)
            } else {
                // Windows-1252 maps every byte but five to a character;
                // those five are control codes no spreadsheet writes.
                (
                    WINDOWS_1252.decode_without_bom_handling(bytes).0,
                    WINDOWS_1252,
                    true,
                )
            }
        }
    };
    Ok(Decoded {
        text,
        encoding,
        fell_back,
        gzip: false,
    })
}

/// Files people pick by mistake: say what they are and what to do.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(
            "the file is a ZIP archive (an Excel .xlsx workbook?), not text; save it as CSV (Arkiv → Spara som → CSV UTF-8) and import that",
        )
    } else if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        Some(
            "the file is an old Excel .xls workbook, not text; save it as CSV (Arkiv → Spara som → CSV UTF-8) and import that",
        )
    } else if bytes.starts_with(b"%PDF") {
        Some("the file is a PDF, not text")
    } else {
        None
    }
}

/// The 1-based line of the first byte sequence `encoding` cannot decode.
fn first_bad_line(bytes: &[u8], encoding: &'static Encoding) -> usize {
    let mut line = 1;
    for chunk in bytes.split_inclusive(|b| *b == b'\n') {
        if encoding.decode_without_bom_handling(chunk).1 {
            return line;
        }
        line += 1;
    }
    line
}

/// The delimiter that splits the first lines (up to 20) into the same
/// number of fields, more than one; quoted text is not counted. Where
/// several do, the one giving most fields wins; where none does, the one
/// most frequent on the header line; a single-column file is comma.
pub fn detect_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];
    let mut counts: Vec<[usize; 3]> = Vec::new();
    let mut current = [0usize; 3];
    let mut in_quotes = false;
    let mut line_has_text = false;
    for b in text.bytes().take(64 * 1024) {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => {
                if line_has_text {
                    counts.push(current);
                    if counts.len() == 20 {
                        break;
                    }
                }
                current = [0; 3];
                line_has_text = false;
                continue;
            }
            _ if !in_quotes => {
                if let Some(i) = CANDIDATES.iter().position(|c| *c == b) {
                    current[i] += 1;
                }
            }
            _ => {}
        }
        line_has_text = true;
    }
    if line_has_text && counts.len() < 20 {
        counts.push(current);
    }
    let Some(header) = counts.first() else {
        return b',';
    };
    let consistent = (0..3)
        .filter(|&i| header[i] > 0 && counts.iter().all(|c| c[i] == header[i]))
        .max_by_key(|&i| header[i]);
    let index = consistent
        .or_else(|| (0..3).filter(|&i| header[i] > 0).max_by_key(|&i| header[i]))
        .unwrap_or(0);
    CANDIDATES[index]
}

/// Parses `--delimiter`: `,` `;` `tab` (or `\t`), `auto`.
pub fn parse_delimiter(s: &str, field: &str) -> crate::Result<Option<u8>> {
    match s.trim_matches(|c: char| c == ' ') {
        "" | "auto" => Ok(None),
        "," | "comma" => Ok(Some(b',')),
        ";" | "semicolon" => Ok(Some(b';')),
        "\t" | "\\t" | "tab" => Ok(Some(b'\t')),
        "|" | "pipe" => Ok(Some(b'|')),
        other => Err(crate::Error::invalid(
            field,
            format!("`{other}` is not a delimiter Trygg reads; use `,`, `;`, `tab`, `|` or auto"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn utf8_with_and_without_a_bom_reads_as_utf8() {
        let plain = decode("typ;plats\nStöld;Ågatan\n".as_bytes(), TextEncoding::Detect).unwrap();
        assert_eq!(plain.encoding, UTF_8);
        assert!(!plain.fell_back);
        let bom = decode(
            "\u{feff}typ;plats\nStöld;Ågatan\n".as_bytes(),
            TextEncoding::Detect,
        )
        .unwrap();
        assert_eq!(bom.text, "typ;plats\nStöld;Ågatan\n", "the mark is gone");
    }

    #[test]
    fn windows_1252_is_the_fallback_only_for_bytes_that_are_not_utf8() {
        let (bytes, _, _) = WINDOWS_1252.encode("typ;plats\nStöld;Ågatan €\n");
        let d = decode(&bytes, TextEncoding::Detect).unwrap();
        assert_eq!(d.text, "typ;plats\nStöld;Ågatan €\n");
        assert!(d.fell_back && d.encoding == WINDOWS_1252);
        // Named, a UTF-8 file read as Windows-1252 is what was asked for.
        let named = TextEncoding::parse("cp1252", "--encoding").unwrap();
        let d = decode("Ö".as_bytes(), named).unwrap();
        assert_eq!(d.text, "Ã–");
    }

    #[test]
    fn utf16_with_a_bom_reads() {
        let mut bytes = vec![0xff, 0xfe];
        for u in "typ\tplats\nRån\tTorget\n".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        assert_eq!(
            decode(&bytes, TextEncoding::Detect).unwrap().text,
            "typ\tplats\nRån\tTorget\n"
        );
    }

    #[test]
    fn gzip_is_known_by_its_magic_bytes_and_a_damaged_one_says_so() {
        let (bytes, _, _) = WINDOWS_1252.encode("typ;plats\nStöld;Ågatan\n");
        let packed = gzip(&bytes);
        let d = decode(&packed, TextEncoding::Detect).unwrap();
        assert!(d.gzip && d.fell_back);
        assert_eq!(d.text, "typ;plats\nStöld;Ågatan\n");
        let whole = gzip(&[b'a'; 10_000]);
        let err = decode(&whole[..whole.len() / 2], TextEncoding::Detect).unwrap_err();
        assert!(err.reason.contains("gzip"), "{err}");
    }

    #[test]
    fn a_workbook_or_binary_file_says_what_it_is() {
        let err = decode(b"PK\x03\x04\x14\x00rest", TextEncoding::Detect).unwrap_err();
        assert!(err.reason.contains("xlsx"), "{err}");
        let err = decode(b"a\0b\0", TextEncoding::Detect).unwrap_err();
        assert!(err.reason.contains("NUL"), "{err}");
        let err = decode(b"", TextEncoding::Detect).unwrap_err();
        assert!(err.reason.contains("empty"), "{err}");
        let err = decode(&[b'a', b'\n', 0xff, 0xfe, b'b'], TextEncoding::Named(UTF_8)).unwrap_err();
        assert!(err.reason.starts_with("line 2 is not valid UTF-8"), "{err}");
        assert!(TextEncoding::parse("klingon", "--encoding").is_err());
    }

    #[test]
    fn the_delimiter_is_the_one_that_splits_every_line_alike() {
        // Decimal commas in a semicolon file do not make it comma-separated.
        assert_eq!(
            detect_delimiter("nr;N;E;datum\n7;6474614,99;536308,53;2024-01-05\n"),
            b';'
        );
        assert_eq!(detect_delimiter("a,b,c\r\n1,2,3\r\n"), b',');
        assert_eq!(detect_delimiter("a\tb\n\"x;y\"\t2\n"), b'\t');
        // Quoted commas and line breaks are not counted.
        assert_eq!(
            detect_delimiter("id;text;n\n1;\"a, b,\nc\";2\n2;d;3\n"),
            b';'
        );
        assert_eq!(detect_delimiter("single\n1\n"), b',');
        assert_eq!(parse_delimiter("tab", "d").unwrap(), Some(b'\t'));
        assert!(parse_delimiter("x", "d").is_err());
    }
}
