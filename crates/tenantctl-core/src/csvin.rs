//! CSV input as Windows writes it: the encoding and the delimiter are found before any row is
//! read. No I/O: bytes in, text (with how it was read) or one clear message out.
//!
//! Encodings ([`Encoding`]):
//! - UTF-8, with or without BOM (Excel's "CSV UTF-8", PowerShell 7, every Unix tool);
//! - UTF-16 LE/BE with BOM (PowerShell 5's `Out-File` default and `Export-Csv -Encoding Unicode`
//!   / `BigEndianUnicode`), and without BOM, recognised by its NUL-byte pattern;
//! - UTF-32 LE/BE with BOM (PowerShell 5's `-Encoding UTF32` / `BigEndianUTF32`);
//! - Windows-1252 otherwise (Excel's plain "CSV" and PowerShell 5's `Export-Csv` on Western
//!   Windows): bytes that are not valid UTF-8 and fit no other pattern.
//!
//! Delimiters ([`Delimiter`]): the one used most, outside quotes, on the header line: `,`, `;`
//! (Excel in locales whose decimal separator is a comma) or tab. An Excel `sep=;` first line
//! sets it explicitly. A PowerShell 5 `#TYPE ...` first line (`Export-Csv` without
//! `-NoTypeInformation`) is skipped. Both are blanked rather than removed, so line numbers in
//! messages stay the file's own.

use std::fmt;

/// How the bytes of a CSV file were decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8; `bom`: it started with EF BB BF.
    Utf8 { bom: bool },
    /// UTF-16 little-endian; `bom`: it started with FF FE (else found by its NUL bytes).
    Utf16Le { bom: bool },
    /// UTF-16 big-endian; `bom`: it started with FE FF (else found by its NUL bytes).
    Utf16Be { bom: bool },
    /// UTF-32 little-endian with the BOM FF FE 00 00.
    Utf32Le,
    /// UTF-32 big-endian with the BOM 00 00 FE FF.
    Utf32Be,
    /// Windows-1252 (Western European "ANSI"), decoded by `encoding_rs` (WHATWG mapping).
    Windows1252,
}

impl Encoding {
    /// UTF-8 with or without BOM: what every tool reads without guessing.
    pub fn is_utf8(self) -> bool {
        matches!(self, Encoding::Utf8 { .. })
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bom = |b: bool| if b { "with BOM" } else { "without BOM" };
        match *self {
            Encoding::Utf8 { bom: b } => write!(f, "UTF-8 {}", bom(b)),
            Encoding::Utf16Le { bom: b } => write!(f, "UTF-16 LE {}", bom(b)),
            Encoding::Utf16Be { bom: b } => write!(f, "UTF-16 BE {}", bom(b)),
            Encoding::Utf32Le => f.write_str("UTF-32 LE with BOM"),
            Encoding::Utf32Be => f.write_str("UTF-32 BE with BOM"),
            Encoding::Windows1252 => f.write_str("Windows-1252"),
        }
    }
}

/// The character between the fields of a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiter {
    Comma,
    /// Excel's list separator in locales with a decimal comma (de, fr, nl, es, it, pt-BR, ...).
    Semicolon,
    Tab,
}

impl Delimiter {
    const ALL: [Delimiter; 3] = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab];

    /// The delimiter's byte, for `csv::ReaderBuilder::delimiter`.
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }

    /// Its name in messages: `comma`, `semicolon`, `tab`.
    pub fn name(self) -> &'static str {
        match self {
            Delimiter::Comma => "comma",
            Delimiter::Semicolon => "semicolon",
            Delimiter::Tab => "tab",
        }
    }

    fn of(c: char) -> Option<Delimiter> {
        Delimiter::ALL.into_iter().find(|d| d.byte() as char == c)
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A CSV file decoded to text, with how it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedCsv {
    /// The text without BOM; a `#TYPE` or `sep=` preamble line is emptied (its line break kept,
    /// so line numbers are the file's). Free of control characters other than tab, CR and LF.
    pub text: String,
    pub encoding: Encoding,
    pub delimiter: Delimiter,
    /// The 1-based line of the header (after blank and preamble lines).
    pub header_line: usize,
}

impl DecodedCsv {
    /// A `csv` reader over the text with the detected delimiter (rows may differ in length:
    /// the parsers report that themselves, naming the line).
    pub fn reader(&self) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(self.delimiter.byte())
            .from_reader(self.text.as_bytes())
    }

    /// `UTF-8 without BOM, comma-separated`: for messages.
    pub fn describe(&self) -> String {
        format!("{}, {}-separated", self.encoding, self.delimiter)
    }

    /// UTF-8 and commas: nothing was guessed worth mentioning.
    pub fn is_plain(&self) -> bool {
        self.encoding.is_utf8() && self.delimiter == Delimiter::Comma
    }
}

const RESAVE: &str = "re-save it as CSV UTF-8 (Excel: File > Save As > \"CSV UTF-8 (Comma delimited)\"; \
                      PowerShell: Export-Csv -Encoding UTF8 -NoTypeInformation)";

/// Why bytes could not be read as a CSV file. Messages name the input, what was found and the
/// fix; they never contain the file's raw bytes or control characters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsvInputError {
    /// No bytes, or nothing but a BOM, blank lines and preamble.
    #[error("{what} is empty: it needs a header line and at least one row")]
    Empty { what: String },
    /// A workbook or another non-text format, known by its magic bytes.
    #[error("{what} is {kind}, not a CSV file: {RESAVE}")]
    NotCsv { what: String, kind: &'static str },
    /// The BOM or byte pattern says `encoding`, but the bytes are not valid in it.
    #[error("{what} looks like {encoding} but {detail}: {RESAVE}")]
    Malformed {
        what: String,
        encoding: Encoding,
        detail: String,
        /// The line of the first bad byte when known, else 1.
        line: usize,
    },
    /// Decoded text holding a control character other than tab, CR and LF (NUL from a wrong
    /// guess, C1 codes from another code page, terminal escapes).
    #[error(
        "{what}, read as {encoding}, has the control character {code} on line {line}, which no CSV text \
         holds: it is another kind of file or in another encoding; {RESAVE}"
    )]
    ControlCharacter {
        what: String,
        encoding: Encoding,
        line: usize,
        /// `U+0000` form.
        code: String,
    },
    /// A header line with none of the three delimiters (every input needs two columns or more).
    #[error(
        "{what} (read as {encoding}): the header line \"{header}\" has no comma, semicolon or tab between \
         column names; separate the columns with commas ({RESAVE})"
    )]
    NoDelimiter {
        what: String,
        encoding: Encoding,
        /// The header line, shortened.
        header: String,
    },
    /// An Excel `sep=` line naming another delimiter.
    #[error("{what}: its first line sets the delimiter {found}; use a comma, semicolon or tab ({RESAVE})")]
    UnsupportedDelimiter { what: String, found: String },
}

impl CsvInputError {
    /// The 1-based line the problem is on (1 for problems with the whole file).
    pub fn line(&self) -> usize {
        match self {
            CsvInputError::ControlCharacter { line, .. } | CsvInputError::Malformed { line, .. } => *line,
            _ => 1,
        }
    }
}

/// Decodes a CSV file and finds its delimiter (see the module documentation for what is
/// recognised). `what` names the input in messages, e.g. its path or "the file".
pub fn decode_csv(bytes: &[u8], what: &str) -> Result<DecodedCsv, CsvInputError> {
    let what = what.to_owned();
    if bytes.is_empty() {
        return Err(CsvInputError::Empty { what });
    }
    if let Some(kind) = binary_kind(bytes) {
        return Err(CsvInputError::NotCsv { what, kind });
    }
    let (encoding, body) = sniff(bytes);
    let malformed = |detail: String, line: usize| CsvInputError::Malformed {
        what: what.clone(),
        encoding,
        detail,
        line,
    };
    let mut text = match encoding {
        Encoding::Utf8 { .. } => match std::str::from_utf8(body) {
            Ok(t) => t.to_owned(),
            Err(e) => {
                let line = body[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
                return Err(malformed(format!("has a byte that is not UTF-8 on line {line}"), line));
            }
        },
        Encoding::Utf16Le { .. } | Encoding::Utf16Be { .. } => {
            if body.len() % 2 != 0 {
                return Err(malformed("has an odd number of bytes (cut short?)".into(), 1));
            }
            let enc = if matches!(encoding, Encoding::Utf16Le { .. }) {
                encoding_rs::UTF_16LE
            } else {
                encoding_rs::UTF_16BE
            };
            match enc.decode_without_bom_handling_and_without_replacement(body) {
                Some(t) => t.into_owned(),
                None => {
                    return Err(malformed(
                        "has a broken UTF-16 sequence (an unpaired surrogate)".into(),
                        1,
                    ))
                }
            }
        }
        Encoding::Utf32Le | Encoding::Utf32Be => {
            if body.len() % 4 != 0 {
                return Err(malformed(
                    "its length is not a multiple of 4 bytes (cut short?)".into(),
                    1,
                ));
            }
            let mut t = String::with_capacity(body.len() / 4);
            for q in body.chunks_exact(4) {
                let q = [q[0], q[1], q[2], q[3]];
                let n = if encoding == Encoding::Utf32Le {
                    u32::from_le_bytes(q)
                } else {
                    u32::from_be_bytes(q)
                };
                match char::from_u32(n) {
                    Some(c) => t.push(c),
                    None => return Err(malformed(format!("has a value (0x{n:X}) that is no character"), 1)),
                }
            }
            t
        }
        // Never fails: every byte maps to a character (the five unassigned ones to C1 controls,
        // which the control check below turns into a message).
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
    };
    // DOS tools end text files with Ctrl-Z.
    while text.ends_with('\u{1a}') {
        text.pop();
    }
    if text.trim().is_empty() {
        return Err(CsvInputError::Empty { what });
    }
    if let Some((line, c)) = first_control(&text) {
        return Err(CsvInputError::ControlCharacter {
            what,
            encoding,
            line,
            code: format!("U+{:04X}", c as u32),
        });
    }
    let (explicit, header_line) = blank_preamble(&mut text);
    let start: usize = text.split_inclusive('\n').take(header_line - 1).map(str::len).sum();
    let header = header_record(&text[start..]);
    if header.is_empty() {
        return Err(CsvInputError::Empty { what });
    }
    let delimiter = match explicit {
        Some(Ok(d)) => d,
        Some(Err(found)) => return Err(CsvInputError::UnsupportedDelimiter { what, found }),
        None => match detect_delimiter(header) {
            Some(d) => d,
            None => {
                return Err(CsvInputError::NoDelimiter {
                    what,
                    encoding,
                    header: shorten(header, 60),
                })
            }
        },
    };
    Ok(DecodedCsv {
        text,
        encoding,
        delimiter,
        header_line,
    })
}

/// Files people pick by mistake, by their magic bytes.
fn binary_kind(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"PK\x03\x04") {
        Some("an Excel workbook (.xlsx) or another ZIP archive")
    } else if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some("an old Excel workbook (.xls)")
    } else if b.starts_with(b"%PDF") {
        Some("a PDF document")
    } else {
        None
    }
}

/// The encoding and the bytes after its BOM.
fn sniff(b: &[u8]) -> (Encoding, &[u8]) {
    // UTF-32 LE's BOM starts like UTF-16 LE's: test it first.
    if let Some(rest) = b.strip_prefix(&[0xFF, 0xFE, 0, 0]) {
        return (Encoding::Utf32Le, rest);
    }
    if let Some(rest) = b.strip_prefix(&[0, 0, 0xFE, 0xFF]) {
        return (Encoding::Utf32Be, rest);
    }
    if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (Encoding::Utf8 { bom: true }, rest);
    }
    if let Some(rest) = b.strip_prefix(&[0xFF, 0xFE]) {
        return (Encoding::Utf16Le { bom: true }, rest);
    }
    if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        return (Encoding::Utf16Be { bom: true }, rest);
    }
    if let Some(e) = utf16_without_bom(b) {
        return (e, b);
    }
    match std::str::from_utf8(b) {
        Ok(_) => (Encoding::Utf8 { bom: false }, b),
        Err(_) => (Encoding::Windows1252, b),
    }
}

/// UTF-16 without BOM: headers, UPNs and delimiters are ASCII, so in UTF-16 LE many odd bytes
/// are NUL (over a third, even with names in CJK scripts) and few even ones (BE: the reverse).
/// UTF-8 text has no NUL at all. Looks at the first 4 KiB.
fn utf16_without_bom(b: &[u8]) -> Option<Encoding> {
    let sample = &b[..b.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    if pairs == 0 {
        return None;
    }
    let even = sample.iter().step_by(2).filter(|&&x| x == 0).count();
    let odd = sample.iter().skip(1).step_by(2).filter(|&&x| x == 0).count();
    if odd * 3 > pairs && even * 4 < odd {
        Some(Encoding::Utf16Le { bom: false })
    } else if even * 3 > pairs && odd * 4 < even {
        Some(Encoding::Utf16Be { bom: false })
    } else {
        None
    }
}

/// The first control character other than tab, CR and LF, with its 1-based line.
fn first_control(text: &str) -> Option<(usize, char)> {
    text.split('\n').enumerate().find_map(|(i, l)| {
        l.chars()
            .find(|&c| c.is_control() && c != '\t' && c != '\r')
            .map(|c| (i + 1, c))
    })
}

/// Blanks a leading PowerShell `#TYPE ...` line and an Excel `sep=X` line (keeping their line
/// breaks). Returns the delimiter `sep=` set (or, if unsupported, what it named) and the
/// 1-based line of the header: the first line that is neither empty nor preamble.
fn blank_preamble(text: &mut String) -> (Option<Result<Delimiter, String>>, usize) {
    let mut explicit = None;
    let mut start = 0; // byte offset of the current line
    let mut line = 1;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let content = text[start..end].trim_end_matches('\r');
        let is_type = content == "#TYPE" || content.starts_with("#TYPE ");
        let is_sep = explicit.is_none()
            && content.len() > 4
            && content.is_char_boundary(4)
            && content[..4].eq_ignore_ascii_case("sep=");
        if is_sep {
            let mut cs = content[4..].chars();
            explicit = Some(match (cs.next(), cs.next()) {
                (Some(c), None) => Delimiter::of(c).ok_or_else(|| format!("'{c}' (sep={c})")),
                _ => Err(format!("\"{}\"", shorten(content, 20))),
            });
        } else if !is_type && !content.is_empty() {
            return (explicit, line);
        }
        if is_type || is_sep {
            text.replace_range(start..end, "");
        }
        start = text[start..].find('\n').map_or(text.len(), |i| start + i + 1);
        line += 1;
    }
    (explicit, line)
}

/// The header record at the start of `text`: up to the first line break outside quotes (a
/// quoted header name may hold one), without the break.
fn header_record(text: &str) -> &str {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => return text[..i].trim_end_matches('\r'),
            _ => {}
        }
    }
    text.trim_end_matches('\r')
}

/// The delimiter used most (outside quotes) on a header line; ties go to comma, then
/// semicolon. `None` when there is none of the three.
pub fn detect_delimiter(header: &str) -> Option<Delimiter> {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in header.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = Delimiter::ALL.iter().position(|d| d.byte() as char == c) {
                counts[i] += 1;
            }
        }
    }
    let (i, &n) = counts
        .iter()
        .enumerate()
        .fold((0, &0), |best, cur| if cur.1 > best.1 { cur } else { best });
    (n > 0).then(|| Delimiter::ALL[i])
}

/// `s` safe to print on a terminal: control characters escaped (`\t`, `\n`, `\u{1b}`, ...), as
/// are the bidirectional overrides that reorder what is shown.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !s.chars().any(bad) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' | '\r' | '\n' => out.extend(c.escape_default()),
            c if bad(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out.into()
}

/// At most `max` characters of `s`, with `…` when cut, made [`printable`].
pub fn shorten(s: &str, max: usize) -> String {
    let cut: String = s.chars().take(max).collect();
    let mut out = printable(&cut).into_owned();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}
