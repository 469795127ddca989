//! A real `patrol-server` process (the binary this package builds) on a loopback port: started
//! on a data folder, waited for through `/healthz`, measured through `/proc/<pid>/status`, and
//! stopped with SIGTERM (its graceful shutdown).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound and released; nothing else on this machine races for it in a bench).
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr")
}

/// One plain HTTP/1.1 GET on a fresh connection; returns the status code.
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let head = String::from_utf8_lossy(&answer[..answer.len().min(32)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {head:?}")))
}

/// Waits until something answers `path` with 200 on `addr`.
pub fn wait_ready(addr: SocketAddr, path: &str, child: &mut Child, what: &str) {
    let start = Instant::now();
    loop {
        if let Ok(200) = http_get(addr, path) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited with {status} before answering on {addr}");
        }
        if start.elapsed() > Duration::from_secs(60) {
            panic!("{what} does not answer {path} on {addr} after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Resident memory of a process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Peak resident set since the process started (VmHWM), bytes.
    pub peak_bytes: u64,
    /// Resident set now (VmRSS), bytes.
    pub now_bytes: u64,
}

pub fn memory_of(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    Memory {
        peak_bytes: kb("VmHWM:"),
        now_bytes: kb("VmRSS:"),
    }
}

/// Sends SIGTERM and waits (up to 30 s) for the process to end; kills it after that.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A server running as a child process: the `patrol-server` binary, or the JS sync server.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
}

impl ServerProcess {
    /// Starts `patrol-server --data DIR --listen 127.0.0.1:PORT serve --enrol-every-s 0`
    /// (no enrolment limit: the bench's phones all enrol from 127.0.0.1), logging to `DIR.log`.
    pub fn start(data: &Path) -> Self {
        let addr = free_addr();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_patrol-server"));
        cmd.arg("--data")
            .arg(data)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("serve")
            .args(["--enrol-every-s", "0"]);
        Self::spawn(
            cmd,
            addr,
            &data.with_extension("log"),
            "/healthz",
            "patrol-server",
        )
    }

    /// Spawns `cmd` (which listens on `addr`), its output to `log`, and waits until `ready_path`
    /// answers 200.
    pub fn spawn(
        mut cmd: Command,
        addr: SocketAddr,
        log: &Path,
        ready_path: &str,
        what: &str,
    ) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("server log");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        wait_ready(addr, ready_path, &mut child, what);
        Self { addr, child }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn memory(&self) -> Memory {
        memory_of(self.child.id())
    }

    /// Stops the server gracefully; returns its memory just before.
    pub fn stop(mut self) -> Memory {
        let m = self.memory();
        terminate(&mut self.child);
        m
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            terminate(&mut self.child);
        }
    }
}

/// One plain HTTP/1.1 POST with a bearer token on a fresh connection, without asking for
/// compression; returns the status and the body.
pub fn http_post(
    addr: SocketAddr,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err(std::io::Error::other(
            "chunked answers are not handled here",
        ));
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {head:?}")))?;
    Ok((status, answer[split + 4..].to_vec()))
}
