//! A plain HTTP/1.1 client on one keep-alive connection, as a browser holds one to the office:
//! it sends the session cookie and (like every browser) `Accept-Encoding: gzip`, and reads each
//! answer whole (by `Content-Length`, or chunk by chunk) without decoding it, so a request's time
//! is the server's work, the compression and the transfer on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// An answer as it came over the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as sent (compressed when the server compressed it).
    pub body: Vec<u8>,
    /// From the request's first byte written to the answer's last byte read.
    pub ms: f64,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    conn: BufReader<TcpStream>,
    pub cookie: Option<String>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        s.set_read_timeout(Some(Duration::from_secs(600)))
            .expect("timeout");
        Self {
            addr,
            conn: BufReader::new(s),
            cookie: None,
        }
    }

    /// `GET path`, asking for gzip when `gzip`.
    pub fn get(&mut self, path: &str, gzip: bool) -> Answer {
        let mut head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if gzip {
            head.push_str("Accept-Encoding: gzip\r\n");
        }
        self.send(head, b"")
    }

    /// `POST path` with a form.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let body = body.join("&");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        self.send(head, body.as_bytes())
    }

    fn send(&mut self, mut head: String, body: &[u8]) -> Answer {
        if let Some(c) = &self.cookie {
            head.push_str(&format!("Cookie: {c}\r\n"));
        }
        head.push_str("Connection: keep-alive\r\n\r\n");
        let started = Instant::now();
        let s = self.conn.get_mut();
        s.write_all(head.as_bytes()).expect("write request");
        s.write_all(body).expect("write body");
        let mut answer = self.read_answer();
        answer.ms = started.elapsed().as_secs_f64() * 1e3;
        answer
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.conn.read_line(&mut line).expect("read line");
        assert!(n > 0, "the server closed the connection");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    fn read_answer(&mut self) -> Answer {
        let status_line = self.line();
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("not HTTP: {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let l = self.line();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let size = self.line();
                let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                    .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
                if size == 0 {
                    // Trailers, then the blank line.
                    while !self.line().is_empty() {}
                    break;
                }
                let at = body.len();
                body.resize(at + size, 0);
                self.conn.read_exact(&mut body[at..]).expect("chunk");
                let end = self.line();
                assert!(end.is_empty(), "chunk not followed by CRLF");
            }
        } else if let Some(len) = find("content-length") {
            let len: usize = len.parse().expect("content length");
            body.resize(len, 0);
            self.conn.read_exact(&mut body).expect("body");
        }
        Answer {
            status,
            headers,
            body,
            ms: 0.0,
        }
    }
}

/// Form encoding of a field (UTF-8 bytes, percent-encoded but for unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
