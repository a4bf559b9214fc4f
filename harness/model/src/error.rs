//! Errors a user can cause, and the process exit codes jcstar documents.

use std::fmt;
use std::path::Path;

/// Process exit codes, documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The run completed and no criterion failed.
    Clean = 0,
    /// The run completed and at least one criterion failed on some device.
    CriteriaFailed = 1,
    /// The input (targets, inventory, profile, flags) was invalid.
    BadInput = 2,
    /// The run itself failed or was interrupted (could not bind, write reports, Ctrl-C, …).
    RunFailed = 3,
}

/// Where a piece of user input came from: a file and line, or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file name, or `None` for the command line.
    pub file: Option<String>,
    /// 1-based line number within the file, when known.
    pub line: Option<usize>,
}

impl Origin {
    /// Input given directly on the command line.
    pub fn command_line() -> Self {
        Origin {
            file: None,
            line: None,
        }
    }

    /// Input read from `file` at 1-based `line`.
    pub fn file_line(file: &Path, line: usize) -> Self {
        Origin {
            file: Some(file.display().to_string()),
            line: Some(line),
        }
    }

    /// Input read from `file` where no line applies.
    pub fn file(file: &Path) -> Self {
        Origin {
            file: Some(file.display().to_string()),
            line: None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}"),
            (Some(file), None) => write!(f, "{file}"),
            (None, _) => write!(f, "command line"),
        }
    }
}

/// A mistake in user input, reported as one line: where, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct InputError {
    /// Where the bad input is.
    pub origin: Origin,
    /// What is wrong and what to do instead.
    pub message: String,
}

/// Longest message an input error prints: input echoed in it (a 10 MB target token) is cut.
const MESSAGE_MAX_CHARS: usize = 600;

impl InputError {
    /// A new input error at `origin`.
    pub fn new(origin: Origin, message: impl Into<String>) -> Self {
        InputError {
            origin,
            message: crate::bounded_to(&message.into(), MESSAGE_MAX_CHARS),
        }
    }

    /// An input error in a command-line argument.
    pub fn arg(message: impl Into<String>) -> Self {
        Self::new(Origin::command_line(), message)
    }
}

/// Why a text file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than the cap.
    #[error("it is larger than {0} bytes")]
    TooLarge(u64),
    /// The file is not UTF-8 text.
    #[error("it is not UTF-8 text")]
    NotUtf8,
}

/// Reads the text file `path`, refusing one larger than `max_bytes` (so `/dev/zero` or a log
/// given by mistake cannot exhaust memory) or not UTF-8.
pub fn read_capped(path: &std::path::Path, max_bytes: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge(max_bytes));
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// 1-based line number of byte `offset` in `text`.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
