//! Every limit on what the tool accepts from a file or a server, in one place.
//!
//! Inputs come from people and from models, and either can be hostile or careless: a YAML alias
//! bomb, a 50 MB scenario file, a server that ignores `max_tokens` and streams a novel. Each
//! limit here bounds the memory or disk one such input can take, and each is listed, with how to
//! raise it, in the batch guide's "Limits" section. A limit that a person may need to raise says
//! how in the message that refuses.

use std::cell::Cell;

/// The largest YAML file read by default: 10 MiB. A scenario or batch config is a few KB; a
/// file this size is a mistake (a data dump named `.yaml`) or an attack, and parsing it would
/// take memory and time far beyond what any run needs.
pub const DEFAULT_MAX_YAML_BYTES: usize = 10 << 20;

/// The host's name for the setting that raises [`DEFAULT_MAX_YAML_BYTES`], in megabytes.
pub const MAX_YAML_ENV: &str = "SCENARIO_LAB_MAX_YAML_MB";

/// Aliases may expand a YAML document by this factor of its own text...
pub const ALIAS_EXPANSION_FACTOR: usize = 10;

/// ...or by this many bytes, whichever is larger. Generous for any real use of anchors
/// (shared defaults copied into a few dozen places) while a billion-laughs bomb, which needs
/// gigabytes, is stopped at the alias that crosses it.
pub const ALIAS_EXPANSION_FLOOR: usize = 2 << 20;

/// The deepest nesting of lists and mappings in a YAML file. A config nests a few levels; the
/// tree is built, read and dropped by recursion, and a wasm instance has a 1 MiB stack, which a
/// 20,000-deep `- - - …` (40 KB of text) would overflow, killing the process.
pub const MAX_YAML_NESTING: usize = 200;

/// The widest piece of a source line quoted in a diagnostic, in characters: a 200,000-character
/// line is quoted as the part around the column, not echoed whole.
pub const QUOTE_WIDTH: usize = 100;

/// The longest reply text a call log keeps, in bytes (UTF-8). A reply within `max_tokens` is far
/// shorter (4,096 tokens are about 16 KB); a server that ignores the cap must not fill the disk.
/// The rest of a longer reply is dropped and the entry says how much was cut.
pub const MAX_STORED_REPLY_BYTES: usize = 256 << 10;

thread_local! {
    static MAX_YAML_BYTES: Cell<usize> = const { Cell::new(DEFAULT_MAX_YAML_BYTES) };
}

/// The largest YAML file the loaders read now.
pub fn max_yaml_bytes() -> usize {
    MAX_YAML_BYTES.with(Cell::get)
}

/// Raises (or lowers) the YAML file limit for this thread: the CLI sets it once from
/// [`MAX_YAML_ENV`]. The core runs on one thread, so this is the whole process in wasm.
pub fn set_max_yaml_bytes(bytes: usize) {
    MAX_YAML_BYTES.with(|c| c.set(bytes));
}

/// Sets the YAML file limit from the text of [`MAX_YAML_ENV`] (megabytes, a positive number).
pub fn set_max_yaml_megabytes(text: &str) -> Result<(), String> {
    match text.trim().parse::<f64>() {
        Ok(mb) if mb.is_finite() && mb > 0.0 => {
            set_max_yaml_bytes((mb * (1u64 << 20) as f64) as usize);
            Ok(())
        }
        _ => Err(format!(
            "{MAX_YAML_ENV} must be a number of megabytes above 0 (found `{text}`)"
        )),
    }
}

/// `bytes` as a person reads a size: "512 bytes", "3.2 KB", "10.0 MB" (binary units).
pub fn size_text(bytes: usize) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(3 << 10), "3.0 KB");
        assert_eq!(size_text(DEFAULT_MAX_YAML_BYTES), "10.0 MB");
    }

    #[test]
    fn the_yaml_limit_is_set_in_megabytes() {
        set_max_yaml_megabytes("64").unwrap();
        assert_eq!(max_yaml_bytes(), 64 << 20);
        assert!(set_max_yaml_megabytes("lots")
            .unwrap_err()
            .contains(MAX_YAML_ENV));
        assert!(set_max_yaml_megabytes("0").is_err());
        set_max_yaml_bytes(DEFAULT_MAX_YAML_BYTES);
    }
}
