//! Container log files: `ROOT/pods/<uid>/<container>.log`, stdout and stderr of every run
//! of the container appended in the order written (the kernel appends, since both streams
//! share one `O_APPEND` file). `kubectl logs` and `schedlab logs` read them through the
//! agent's `/containerLogs` endpoint.
//!
//! Simplified from the kubelet: no CRI timestamps or stream tags per line, no rotation, and
//! one file across restarts (so there is no `--previous`).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The directory of one pod's files under the agent's root.
pub fn pod_dir(root: &Path, pod_uid: &str) -> PathBuf {
    root.join("pods").join(pod_uid)
}

/// The log file of one container.
pub fn log_path(root: &Path, pod_uid: &str, container: &str) -> PathBuf {
    pod_dir(root, pod_uid).join(format!("{container}.log"))
}

/// Opens (creating) a container's log for appending: one handle for stdout, a clone for
/// stderr.
pub fn open_for_append(root: &Path, pod_uid: &str, container: &str) -> io::Result<(File, File)> {
    fs::create_dir_all(pod_dir(root, pod_uid))?;
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path(root, pod_uid, container))?;
    let err = out.try_clone()?;
    Ok((out, err))
}

/// A container's log, or its last `tail` lines. A container that has not written anything
/// (or not started) has an empty log.
pub fn read_log(
    root: &Path,
    pod_uid: &str,
    container: &str,
    tail: Option<usize>,
) -> io::Result<Vec<u8>> {
    let bytes = match fs::read(log_path(root, pod_uid, container)) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(match tail {
        Some(n) => tail_lines(&bytes, n).to_vec(),
        None => bytes,
    })
}

/// What a container's log has past `offset` (empty if nothing was appended).
pub fn read_from(root: &Path, pod_uid: &str, container: &str, offset: u64) -> io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match File::open(log_path(root, pod_uid, container)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)?;
    Ok(out)
}

/// The last `n` lines of `bytes` (a final line without a newline counts as a line).
pub fn tail_lines(bytes: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return &bytes[i + 1..];
            }
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::tail_lines;

    #[test]
    fn tail_counts_lines_from_the_end() {
        assert_eq!(tail_lines(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(tail_lines(b"a\nb\nc", 1), b"c");
        assert_eq!(tail_lines(b"a\nb\n", 5), b"a\nb\n");
        assert_eq!(tail_lines(b"a\n", 0), b"");
    }
}
