//! What kind of failure an error is, and the exit status each kind gives: the one table that
//! the CLI (and any other host) follows, so that a disk failure exits 1 and bad usage exits 2
//! whichever command met it.

/// The kinds of failure, as hosts see them (`error.kind` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// An input file does not load or validate; diagnostics say where.
    ConfigInvalid,
    /// A request that cannot be carried out as given (a bad flag value, a folder that is not
    /// a run or a batch output).
    Usage,
    /// A batch that will not start as asked (unknown prices with a budget, a changed config,
    /// an output folder that already holds the batch).
    Refused,
    /// The host's storage failed (a disk full, a permission, a path that is a file).
    Storage,
    /// A bug.
    Internal,
}

impl ErrorKind {
    /// The word hosts match on.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ConfigInvalid => "config_invalid",
            ErrorKind::Usage => "usage",
            ErrorKind::Refused => "refused",
            ErrorKind::Storage => "storage",
            ErrorKind::Internal => "internal",
        }
    }

    /// The process exit status: 2 for what the user can fix in the command or the config,
    /// 1 for what failed underneath it.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::ConfigInvalid | ErrorKind::Usage | ErrorKind::Refused => 2,
            ErrorKind::Storage | ErrorKind::Internal => 1,
        }
    }
}

/// An error that knows its kind.
pub trait HasKind: std::error::Error {
    /// Its kind.
    fn kind(&self) -> ErrorKind;
}

#[cfg(test)]
mod tests {
    use super::ErrorKind::*;

    #[test]
    fn the_exit_table() {
        let table: Vec<(&str, i32)> = [ConfigInvalid, Usage, Refused, Storage, Internal]
            .iter()
            .map(|k| (k.as_str(), k.exit_code()))
            .collect();
        assert_eq!(
            table,
            [
                ("config_invalid", 2),
                ("usage", 2),
                ("refused", 2),
                ("storage", 1),
                ("internal", 1)
            ]
        );
    }
}
