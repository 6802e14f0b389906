//! `/`-separated path arithmetic, with no file system behind it.
//!
//! Paths here are strings the hosts understand: relative ones are relative to the host's root
//! (the CLI's working directory), absolute ones start with `/`. Nothing here touches storage;
//! [`candidates`] only lists where a relative path from a config may point, in the order we try.

/// Collapses `.`, empty segments and `..` (which never climbs above the start of a relative
/// path: leading `..` segments are kept).
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// `base` joined with `rel`; `rel` wins when it is absolute.
pub fn join(base: &str, rel: &str) -> String {
    if rel.starts_with('/') || base.is_empty() || base == "." {
        normalize(rel)
    } else {
        normalize(&format!("{base}/{rel}"))
    }
}

/// The folder holding `path` (`.` for a bare file name).
pub fn parent(path: &str) -> String {
    let path = normalize(path);
    match path.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => path[..i].to_string(),
        None => ".".to_string(),
    }
}

/// The last segment of a path.
pub fn file_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// A file name without its last extension (`regulator.yaml` -> `regulator`).
pub fn stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// Where a relative path written in a config may point, in the order to try: the working
/// directory first (as the original tool did), then the config's own folder. An absolute path
/// has one candidate.
pub fn candidates(written: &str, config_path: &str) -> Vec<String> {
    if written.starts_with('/') {
        return vec![normalize(written)];
    }
    let mut out = vec![normalize(written)];
    let beside = join(&parent(config_path), written);
    if !out.contains(&beside) {
        out.push(beside);
    }
    out
}

/// Turns any text (an actor name, an id from an LLM) into one safe file-name segment:
/// lowercase ASCII letters, digits and `-`, never empty, never `.` or `..`.
pub fn sanitize_segment(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "unnamed".to_string()
    } else {
        out.chars().take(64).collect()
    }
}

/// A file name from an untrusted folder listing, kept only when it is one plain segment.
pub fn sanitize_file_name(name: &str) -> String {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\\') {
        sanitize_segment(name)
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_collapses_dots() {
        assert_eq!(normalize("a/./b//c/../d"), "a/b/d");
        assert_eq!(normalize("../x/../../y"), "../../y");
        assert_eq!(normalize("/a/../../b"), "/b");
        assert_eq!(normalize("./"), ".");
    }

    #[test]
    fn join_and_parent() {
        assert_eq!(join("experiments/x", "../../scenarios/q"), "scenarios/q");
        assert_eq!(join("experiments/x", "/abs/s"), "/abs/s");
        assert_eq!(join(".", "s"), "s");
        assert_eq!(parent("experiments/x/batch-config.yaml"), "experiments/x");
        assert_eq!(parent("batch.yaml"), ".");
        assert_eq!(parent("/b.yaml"), "/");
    }

    #[test]
    fn candidates_try_cwd_then_config_folder() {
        assert_eq!(
            candidates("scenarios/q", "experiments/x/batch-config.yaml"),
            vec!["scenarios/q", "experiments/x/scenarios/q"]
        );
        assert_eq!(candidates("/s", "e/b.yaml"), vec!["/s"]);
        assert_eq!(candidates("s", "b.yaml"), vec!["s"]);
    }

    #[test]
    fn sanitize_never_escapes() {
        assert_eq!(sanitize_segment("../../etc/passwd"), "etc-passwd");
        assert_eq!(sanitize_segment("Mayor Sarah Chen"), "mayor-sarah-chen");
        assert_eq!(sanitize_segment("..."), "unnamed");
        assert_eq!(stem("regulator.yaml"), "regulator");
        assert_eq!(file_name("a/b/c.yaml"), "c.yaml");
    }
}
