//! Where outputs may go: the policy that keeps a batch's `output_dir` (and a run's
//! `--output`) out of filesystem roots, system folders, home folders and other people's files.
//!
//! The host gathers the facts about the folder ([`DirFacts`]: its path with every symbolic
//! link resolved, whether it is itself a link, its first entries, the platform, the home
//! folder) and [`check`] decides, with no file system behind it. A refusal says why and how to
//! go on. A folder of one's own is always allowed: a new one, an empty one, or one that already
//! holds what we write there (`batch-state.json` for a batch, `scenario-state.json` for a run),
//! so `--resume` works on it. A non-empty folder of anything else is refused unless `--force`:
//! a batch writes `runs/`, `analysis/` and `batch-*.json` among its files and would overwrite
//! any of the same name. Roots and system folders are refused even with `--force`: no batch
//! belongs there, and a run that wrote into `/etc` as root could not be taken back.

use serde::{Deserialize, Serialize};

use crate::config::{BatchConfig, ConfigErrors};
use crate::diag::{Detail, FileDiags};
use crate::paths;

/// What the host knows about an output folder.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct DirFacts {
    /// The folder as the user wrote it (or as the config's default made it).
    pub written: String,
    /// Its absolute path, every symbolic link resolved (those of its nearest existing
    /// ancestor, when it does not exist yet).
    pub resolved: String,
    /// The platform (`process.platform`: `win32`, `linux`, `darwin`, ...).
    pub platform: String,
    /// The user's home folder, resolved.
    pub home: Option<String>,
    /// Whether the folder exists (as anything).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub exists: bool,
    /// Whether it is a folder (through a link).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub is_dir: bool,
    /// Where it points, when the folder itself is a symbolic link.
    pub link_target: Option<String>,
    /// Some of its entries' names (a few dozen are enough to tell whose it is).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>"))]
    pub entries: Vec<String>,
}

/// What `checkBatchOutput` and `checkRunOutput` take beside the facts.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct OutputOptions {
    /// `--force`: write into a non-empty folder that is not a Scenario Lab output folder.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<bool>"))]
    pub force: bool,
    /// `checkBatchOutput`: the batch's `--output DIR` (which the facts are about), when given
    /// instead of the config's `output_dir`.
    pub output_dir: Option<String>,
}

/// What will be written into the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose<'a> {
    /// A batch's output tree; `config_here` names the batch config's file when it sits in the
    /// folder itself (the experiment's own folder, the default `output_dir`).
    Batch {
        /// The config's file name, when the folder is the config's own.
        config_here: Option<&'a str>,
    },
    /// One run's folder (`scenario --output`).
    Run,
    /// A new project's folder (`init`): nothing in it is ours to write over.
    Project,
}

impl Purpose<'_> {
    /// The file that marks a folder as ours; a project folder has none.
    fn marker(self) -> Option<&'static str> {
        match self {
            Purpose::Batch { .. } => Some("batch-state.json"),
            Purpose::Run => Some("scenario-state.json"),
            Purpose::Project => None,
        }
    }

    /// What we write, in words.
    fn writes(self) -> &'static str {
        match self {
            Purpose::Batch { .. } => "runs/, analysis/ and batch-*.json",
            Purpose::Run => "scenario-state.json, llm-calls.jsonl and a turn-by-turn record",
            Purpose::Project => "scenarios/ and experiments/",
        }
    }
}

/// Why a folder is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// A filesystem root (`/`, `C:\`).
    Root,
    /// A folder of the operating system (`/etc`, `/usr`, `C:\Windows`), or one inside it.
    System,
    /// The user's home folder itself.
    Home,
    /// A non-empty folder that is not a Scenario Lab output folder (`--force` allows it).
    Foreign,
}

/// The decision on an output folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Why it is refused, when it is.
    pub refused: Option<Refusal>,
    /// The refusal in words: what, why, and how to go on.
    pub message: Option<String>,
    /// Things to say when it is accepted (a symbolic link, and where it points).
    pub notes: Vec<String>,
}

/// Files the operating system or an editor leaves in folders, which make no folder anyone's.
const LITTER: &[&str] = &[".DS_Store", "Thumbs.db", "desktop.ini", ".gitkeep"];

/// Folders of the operating system, refused with everything inside them: nothing of a user's
/// lives there.
const SYSTEM_TREES: &[&str] = &[
    "/etc",
    "/bin",
    "/sbin",
    "/boot",
    "/dev",
    "/proc",
    "/sys",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/include",
    "/usr/share",
    "/System",
    "/private/etc",
    "c:/windows",
    "c:/program files",
    "c:/program files (x86)",
    "c:/programdata",
];

/// Folders refused themselves, whose subfolders may be a user's own (`/var/tmp/x`,
/// `/usr/local/src/x`, `/run/user/1000/x`, macOS's temporary `/private/var/folders/...`).
const SYSTEM_FOLDERS: &[&str] = &[
    "/usr",
    "/usr/local",
    "/var",
    "/run",
    "/root",
    "/home",
    "/Users",
    "/opt",
    "/srv",
    "/mnt",
    "/media",
    "/snap",
    "/nix",
    "/tmp",
    "/var/tmp",
    "/Library",
    "/Applications",
    "/Volumes",
    "/private",
    "/private/var",
    "/private/tmp",
    "c:/users",
];

/// A path in one spelling for comparing: `/`-separated, no trailing `/`, and on Windows
/// lowercase (its file systems ignore case).
fn canonical(path: &str, windows: bool) -> String {
    let mut p = if windows {
        path.replace('\\', "/").to_lowercase()
    } else {
        path.to_string()
    };
    while p.len() > 1 && p.ends_with('/') && !(windows && p.len() == 3 && p.ends_with(":/")) {
        p.pop();
    }
    p
}

/// Whether `path` is a filesystem root: `/`, a drive (`c:/`), a UNC share (`//host/share`).
fn is_root(path: &str, windows: bool) -> bool {
    if path == "/" {
        return true;
    }
    if !windows {
        return false;
    }
    let b = path.as_bytes();
    let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    if drive {
        return path.len() <= 3;
    }
    // `//host` or `//host/share`.
    path.starts_with("//") && path[2..].split('/').filter(|s| !s.is_empty()).count() <= 2
}

/// On Windows the system folders are on any drive letter (`d:/windows` is as much Windows).
fn same(a: &str, b: &str, windows: bool) -> bool {
    let drive = |p: &str| p.as_bytes().get(1) == Some(&b':');
    if windows && drive(a) && drive(b) {
        // Byte 1 is `:`, so byte 0 is a whole character and 1 a boundary.
        return a[1..] == b[1..];
    }
    a == b
}

fn within(path: &str, tree: &str, windows: bool) -> bool {
    same(path, tree, windows)
        || (path.len() > tree.len()
            && path.as_bytes()[tree.len()] == b'/'
            && same(&path[..tree.len()], tree, windows))
}

/// Decides whether outputs may go into the folder `facts` describe, for `purpose`; `force`
/// allows a non-empty folder of anything else (never a root or a system folder).
pub fn check(facts: &DirFacts, purpose: Purpose, force: bool) -> Verdict {
    let windows = facts.platform == "win32";
    let path = canonical(&facts.resolved, windows);
    let shown = if canonical(&facts.written, windows) == path {
        format!("`{}`", facts.written)
    } else {
        format!("`{}` (which is {})", facts.written, facts.resolved)
    };
    let mut notes = Vec::new();
    if let Some(target) = &facts.link_target {
        notes.push(format!(
            "the output folder `{}` is a symbolic link to {target}: the outputs go to {}",
            facts.written, facts.resolved
        ));
    }
    let refuse = |why: Refusal, message: String| Verdict {
        refused: Some(why),
        message: Some(message),
        notes: Vec::new(),
    };
    let elsewhere =
        "choose a folder of its own, such as experiments/<name> (it is created when missing)";
    if is_root(&path, windows) {
        return refuse(
            Refusal::Root,
            format!("the output folder {shown} is a filesystem root, where Scenario Lab never writes: {elsewhere}"),
        );
    }
    let system = SYSTEM_TREES
        .iter()
        .any(|t| within(&path, &canonical(t, windows), windows))
        || SYSTEM_FOLDERS
            .iter()
            .any(|f| same(&path, &canonical(f, windows), windows));
    if system {
        return refuse(
            Refusal::System,
            format!("the output folder {shown} is a system folder, where Scenario Lab never writes (--force does not change that): {elsewhere}"),
        );
    }
    if let Some(home) = &facts.home {
        if same(&path, &canonical(home, windows), windows) {
            return refuse(
                Refusal::Home,
                format!("the output folder {shown} is your home folder itself: {elsewhere}, for example ~/scenario-lab/<name>"),
            );
        }
    }
    if facts.exists && facts.is_dir && !force {
        let marker = purpose.marker();
        let ours = marker.is_some_and(|m| facts.entries.iter().any(|e| e == m));
        let config_here = match purpose {
            Purpose::Batch { config_here } => config_here,
            Purpose::Run | Purpose::Project => None,
        };
        let others: Vec<&str> = facts
            .entries
            .iter()
            .map(String::as_str)
            .filter(|e| !LITTER.contains(e) && Some(*e) != config_here)
            .collect();
        if !ours && !others.is_empty() {
            let listed: Vec<String> = others.iter().take(5).map(|e| format!("`{e}`")).collect();
            let more = if others.len() > 5 { ", ..." } else { "" };
            let what = match marker {
                Some(m) => format!("is not empty and is not a Scenario Lab output folder (it has no {m}; it holds {}{more})", listed.join(", ")),
                None => format!("is not empty (it holds {}{more})", listed.join(", ")),
            };
            return refuse(
                Refusal::Foreign,
                format!(
                    "the output folder {shown} {what}: {} would be written among its files and overwrite any of the same name. Choose an empty or new folder, or pass --force to write there anyway",
                    purpose.writes()
                ),
            );
        }
    }
    Verdict {
        refused: None,
        message: None,
        notes,
    }
}

/// [`check`] for a batch's `--output DIR`: the notes to print when it is allowed, or why not
/// (the folder came from the command line, so the refusal names the flag, not a config line).
pub fn check_batch_flag(facts: &DirFacts, force: bool) -> Result<Vec<String>, String> {
    let verdict = check(facts, Purpose::Batch { config_here: None }, force);
    match verdict.message {
        Some(m) => Err(format!("--output: {m}")),
        None => Ok(verdict.notes),
    }
}

/// [`check`] for a batch's `output_dir`: the notes to print when it is allowed, or an invalid
/// config pointing at `output_dir:` in the config (`config_text`), or at the file when the
/// folder is the default one.
pub fn check_batch(
    config: &BatchConfig,
    config_text: &str,
    facts: &DirFacts,
    force: bool,
) -> Result<Vec<String>, ConfigErrors> {
    let config_path = paths::normalize(&config.path);
    let here = paths::normalize(&config.output_dir) == paths::parent(&config_path);
    let purpose = Purpose::Batch {
        config_here: here.then(|| paths::file_name(&config_path)),
    };
    let verdict = check(facts, purpose, force);
    let Some(message) = verdict.message else {
        return Ok(verdict.notes);
    };
    let mut diagnostics = Vec::new();
    let root = crate::yaml::parse(config_text).ok();
    let key = root.as_ref().and_then(|r| {
        r.entries()
            .iter()
            .find(|(k, _)| k.as_str() == Some("output_dir"))
    });
    let mut d = FileDiags::new(&config.path, config_text, &mut diagnostics);
    let diag = match key {
        Some((_, value)) => d.error(value, "output_dir", message),
        None => d.file_error(format!(
            "{message} (output_dir is not set: it is the config's folder)"
        )),
    };
    diag.expected("an output folder of its own: new, empty, or one a batch wrote");
    if verdict.refused == Some(Refusal::Foreign) {
        diag.help("pass --force to write into it anyway");
    }
    Err(ConfigErrors { diagnostics })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(written: &str, resolved: &str) -> DirFacts {
        DirFacts {
            written: written.into(),
            resolved: resolved.into(),
            platform: "linux".into(),
            home: Some("/home/ada".into()),
            ..Default::default()
        }
    }

    fn existing(written: &str, entries: &[&str]) -> DirFacts {
        DirFacts {
            exists: true,
            is_dir: true,
            entries: entries.iter().map(|e| e.to_string()).collect(),
            ..facts(written, written)
        }
    }

    const BATCH: Purpose = Purpose::Batch { config_here: None };

    fn refusal(f: &DirFacts, p: Purpose, force: bool) -> Option<Refusal> {
        check(f, p, force).refused
    }

    #[test]
    fn roots_are_refused_even_with_force() {
        assert_eq!(refusal(&facts("/", "/"), BATCH, true), Some(Refusal::Root));
        let mut win = facts("C:\\", "C:\\");
        win.platform = "win32".into();
        assert_eq!(refusal(&win, BATCH, true), Some(Refusal::Root));
        win.resolved = "\\\\server\\share".into();
        assert_eq!(refusal(&win, BATCH, true), Some(Refusal::Root));
    }

    #[test]
    fn a_relative_path_to_etc_is_refused_as_etc() {
        let v = check(&facts("../../etc", "/etc"), BATCH, true);
        assert_eq!(v.refused, Some(Refusal::System));
        let m = v.message.unwrap();
        assert!(m.contains("`../../etc` (which is /etc)"), "{m}");
        assert!(m.contains("system folder"), "{m}");
    }

    #[test]
    fn system_trees_are_refused_inside_and_system_folders_only_themselves() {
        for p in [
            "/etc/x",
            "/usr/lib/x",
            "/proc/1",
            "/usr",
            "/var",
            "/root",
            "/home",
            "/tmp",
        ] {
            assert_eq!(
                refusal(&facts(p, p), BATCH, true),
                Some(Refusal::System),
                "{p}"
            );
        }
        for p in [
            "/var/tmp/x",
            "/usr/local/src/x",
            "/tmp/x",
            "/etcetera",
            "/home/ada/out",
        ] {
            assert_eq!(refusal(&facts(p, p), BATCH, false), None, "{p}");
        }
        let mut win = facts("D:\\Windows\\Temp", "D:\\Windows\\Temp");
        win.platform = "win32".into();
        assert_eq!(refusal(&win, BATCH, true), Some(Refusal::System));
        win.resolved = "C:\\Users\\ada\\out".into();
        win.home = Some("C:\\Users\\ada".into());
        assert_eq!(refusal(&win, BATCH, false), None);
    }

    #[test]
    fn the_home_folder_itself_is_refused() {
        assert_eq!(
            refusal(&facts("~", "/home/ada"), BATCH, true),
            Some(Refusal::Home)
        );
        assert_eq!(refusal(&facts("x", "/home/ada/x"), BATCH, false), None);
    }

    #[test]
    fn a_foreign_folder_is_refused_unless_forced() {
        let f = existing("/data/photos", &["a.jpg", "b.jpg"]);
        let v = check(&f, BATCH, false);
        assert_eq!(v.refused, Some(Refusal::Foreign));
        let m = v.message.unwrap();
        assert!(
            m.contains("no batch-state.json") && m.contains("`a.jpg`") && m.contains("--force"),
            "{m}"
        );
        assert_eq!(refusal(&f, BATCH, true), None);
    }

    #[test]
    fn a_project_folder_must_be_new_or_empty() {
        // Nothing marks a folder as a project's: even a batch's own folder is someone's files.
        let f = existing("my-study", &["batch-state.json", "notes.txt"]);
        let m = check(&f, Purpose::Project, false).message.unwrap();
        assert_eq!(m, "the output folder `my-study` is not empty (it holds `batch-state.json`, `notes.txt`): scenarios/ and experiments/ would be written among its files and overwrite any of the same name. Choose an empty or new folder, or pass --force to write there anyway");
        assert_eq!(refusal(&f, Purpose::Project, true), None);
        assert_eq!(
            refusal(&existing("e", &[".DS_Store"]), Purpose::Project, false),
            None
        );
        assert_eq!(
            refusal(&facts("/etc/x", "/etc/x"), Purpose::Project, true),
            Some(Refusal::System)
        );
    }

    #[test]
    fn our_own_and_empty_folders_are_allowed() {
        let batch = existing("/x/out", &["batch-state.json", "runs", "notes.txt"]);
        assert_eq!(refusal(&batch, BATCH, false), None);
        assert_eq!(refusal(&batch, Purpose::Run, false), Some(Refusal::Foreign));
        let run = existing("/x/run-001", &["scenario-state.json", "llm-calls.jsonl"]);
        assert_eq!(refusal(&run, Purpose::Run, false), None);
        assert_eq!(refusal(&existing("/x/e", &[]), BATCH, false), None);
        assert_eq!(
            refusal(&existing("/x/e", &[".DS_Store"]), BATCH, false),
            None
        );
    }

    #[test]
    fn the_configs_own_folder_may_hold_the_config() {
        let f = existing("experiments/a", &["batch-config.yaml"]);
        let here = Purpose::Batch {
            config_here: Some("batch-config.yaml"),
        };
        assert_eq!(refusal(&f, here, false), None);
        // Another experiment's config would be overwritten by our copy.
        assert_eq!(refusal(&f, BATCH, false), Some(Refusal::Foreign));
    }

    fn loaded(batch: &str) -> BatchConfig {
        let s = crate::host::MemoryStorage::quick_negotiation();
        s.insert("e/b.yaml", batch);
        futures::executor::block_on(crate::config::load_batch(&s, "e/b.yaml"))
            .expect("a valid config")
            .value
    }

    #[test]
    fn a_batch_refusal_points_at_output_dir() {
        let text = "experiment_name: t\nbase_scenario: s\noutput_dir: \"../../etc\"\n";
        let config = loaded(text);
        let e = check_batch(&config, text, &facts("../../etc", "/etc"), false).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!((d.file.as_str(), d.line), ("e/b.yaml", Some(3)));
        assert!(
            d.to_string().contains("3 | output_dir: \"../../etc\""),
            "{d}"
        );
        // The default folder is the config's own, and may hold the config.
        let text = "experiment_name: t\nbase_scenario: s\n";
        let config = loaded(text);
        assert_eq!(config.output_dir, "e");
        let here = existing("e", &["b.yaml"]);
        assert_eq!(
            check_batch(&config, text, &here, false).unwrap(),
            Vec::<String>::new()
        );
        let crowded = existing("e", &["b.yaml", "thesis.tex"]);
        let e = check_batch(&config, text, &crowded, false).unwrap_err();
        assert_eq!(e.diagnostics[0].line, None);
        assert!(e.diagnostics[0].to_string().contains("--force"));
    }

    #[test]
    fn a_symbolic_link_is_allowed_and_reported() {
        let f = DirFacts {
            link_target: Some("/mnt/big/out".into()),
            ..facts("out", "/mnt/big/out")
        };
        let v = check(&f, BATCH, false);
        assert_eq!(v.refused, None);
        assert_eq!(v.notes.len(), 1);
        assert!(
            v.notes[0].contains("symbolic link to /mnt/big/out"),
            "{:?}",
            v.notes
        );
        // A link into /etc is refused as /etc.
        let f = DirFacts {
            link_target: Some("/etc".into()),
            ..facts("out", "/etc")
        };
        assert_eq!(refusal(&f, BATCH, true), Some(Refusal::System));
    }
}
