//! Reader for the text captures in `protocol/push_captures/`: finds request bodies, replies
//! and `--- section ---` blocks in a capture file at test time.
//!
//! Capture grammar: `> ` lines are device->server (request line, `Name: value` headers, an
//! optional bare `>` before the body; body lines may or may not keep the `> ` prefix), `< `
//! lines are server->device (status, headers, bare `<`, body), `#` lines are comments,
//! `--- title ---` lines open a section. TAB bytes are real TABs.

use std::path::{Path, PathBuf};

/// One capture file.
pub struct Capture {
    pub name: String,
    pub text: String,
}

/// Where the captures live: the copy in `tests/golden/captures/` (so a fresh clone
/// works), else `$IRONCLOCK_SHARED_DIR/protocol/push_captures`, else `../shared/…`.
pub fn captures_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = manifest.join("tests/golden/captures");
    if copy.is_dir() {
        return copy;
    }
    shared_captures_dir()
}

/// The shared original (`$IRONCLOCK_SHARED_DIR/protocol/push_captures`, default `../shared/…`).
pub fn shared_captures_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("IRONCLOCK_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir).join("protocol/push_captures"),
        None => manifest.join("../shared/protocol/push_captures"),
    }
}

/// Loads the capture whose file name starts with `number` (`"01"` … `"17"`).
pub fn load(number: &str) -> Capture {
    let dir = captures_dir();
    let entry = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(&format!("{number}_")))
        .unwrap_or_else(|| panic!("no capture {number}_* in {}", dir.display()));
    let text = std::fs::read_to_string(entry.path()).expect("capture is UTF-8 text");
    Capture { name: entry.file_name().to_string_lossy().into_owned(), text }
}

fn is_header(line: &str, marker: char) -> bool {
    let Some(rest) = line.strip_prefix(marker).and_then(|l| l.strip_prefix(' ')) else {
        return false;
    };
    match rest.split_once(": ") {
        Some((name, _)) => !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        None => false,
    }
}

fn ends_block(line: &str) -> bool {
    line.trim().is_empty() || line.starts_with('#') || line.starts_with("---") || line.starts_with('<')
}

impl Capture {
    pub fn lines(&self) -> Vec<&str> {
        self.text.lines().collect()
    }

    /// Indexes of the `> <METHOD> <path>` lines that start with `request` (after `> `).
    fn request_indexes(&self, request: &str) -> Vec<usize> {
        self.lines()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.strip_prefix("> ").is_some_and(|r| r.starts_with(request)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The query string of the first request line starting with `request`.
    pub fn query(&self, request: &str) -> String {
        let lines = self.lines();
        let index =
            *self.request_indexes(request).first().unwrap_or_else(|| panic!("{}: no request {request}", self.name));
        let line = lines[index];
        let after = line.split_once('?').map_or("", |(_, q)| q);
        after.split([' ', '\t']).next().unwrap_or_default().to_owned()
    }

    /// Bodies of every request starting with `request`, lines joined with LF (no trailing LF).
    pub fn request_bodies(&self, request: &str) -> Vec<String> {
        let lines = self.lines();
        self.request_indexes(request)
            .into_iter()
            .map(|start| {
                let mut i = start + 1;
                while i < lines.len() && is_header(lines[i], '>') {
                    i += 1;
                }
                let prefixed = i < lines.len() && lines[i] == ">";
                if prefixed {
                    i += 1;
                }
                let mut body = Vec::new();
                while i < lines.len() && !ends_block(lines[i]) {
                    let line = lines[i];
                    if line.starts_with("> ") && !prefixed {
                        break; // the next request
                    }
                    body.push(line.strip_prefix("> ").unwrap_or(line));
                    i += 1;
                }
                body.join("\n")
            })
            .collect()
    }

    /// Body of the first request starting with `request`.
    pub fn request_body(&self, request: &str) -> String {
        self.request_bodies(request).into_iter().next().unwrap_or_else(|| panic!("{}: no request {request}", self.name))
    }

    /// Status line, headers and body of the reply to the first request starting with `request`.
    pub fn reply(&self, request: &str) -> Reply {
        self.replies(request).into_iter().next().unwrap_or_else(|| panic!("{}: no request {request}", self.name))
    }

    /// Replies to every request starting with `request`, in order.
    pub fn replies(&self, request: &str) -> Vec<Reply> {
        self.request_indexes(request).into_iter().map(|start| self.reply_after(start)).collect()
    }

    fn reply_after(&self, start: usize) -> Reply {
        let lines = self.lines();
        let mut i = start + 1;
        while i < lines.len() && !lines[i].starts_with('<') {
            i += 1;
        }
        let mut reply = Reply::default();
        if lines.get(i).is_some_and(|l| l.starts_with("< HTTP/")) {
            reply.status = lines[i].trim_start_matches("< ").to_owned();
            i += 1;
            while i < lines.len() && is_header(lines[i], '<') {
                let (name, value) = lines[i][2..].split_once(": ").unwrap_or_default();
                reply.headers.push((name.to_owned(), value.to_owned()));
                i += 1;
            }
            if lines.get(i) == Some(&"<") {
                i += 1;
            }
        }
        let mut body = Vec::new();
        while let Some(line) = lines.get(i) {
            if let Some(text) = line.strip_prefix("< ") {
                body.push(text);
            } else if ends_block(line) || line.starts_with('>') {
                break;
            } else {
                body.push(line); // capture 04 prints some reply bodies without the `< ` prefix
            }
            i += 1;
        }
        reply.body = body.join("\n");
        reply
    }

    /// Lines of the `--- … ---` section whose title contains `title`, up to the first blank
    /// line; `#` comments, `> ` request lines and `< ` reply lines are skipped.
    pub fn section(&self, title: &str) -> Vec<&str> {
        let lines = self.lines();
        let start = lines
            .iter()
            .position(|l| l.starts_with("---") && l.contains(title))
            .unwrap_or_else(|| panic!("{}: no section {title}", self.name));
        lines[start + 1..]
            .iter()
            .take_while(|l| !l.trim().is_empty() && !l.starts_with("---"))
            .filter(|l| !l.starts_with('#') && !l.starts_with("> ") && !l.starts_with("< "))
            .copied()
            .collect()
    }

    /// The first line starting with `prefix`.
    pub fn line_starting(&self, prefix: &str) -> &str {
        self.text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{}: no line {prefix}", self.name))
    }

    /// Every line starting with `prefix`.
    pub fn lines_starting(&self, prefix: &str) -> Vec<&str> {
        self.text.lines().filter(|l| l.starts_with(prefix)).collect()
    }
}

/// A server reply found in a capture.
#[derive(Default, Debug)]
pub struct Reply {
    pub status: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Turns the escapes captures print for invisible bytes (`\n`, `\r`, `\t`, `\0`) into bytes.
pub fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let byte = match (c, chars.peek()) {
            ('\\', Some('n')) => Some(b'\n'),
            ('\\', Some('r')) => Some(b'\r'),
            ('\\', Some('t')) => Some(b'\t'),
            ('\\', Some('0')) => Some(0),
            _ => None,
        };
        match byte {
            Some(b) => {
                out.push(b);
                chars.next();
            }
            None => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out
}

/// `unescape` into a `String` (captures only escape ASCII control bytes).
pub fn unescape_text(text: &str) -> String {
    String::from_utf8(unescape(text)).expect("escapes are ASCII")
}
