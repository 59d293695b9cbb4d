//! The coordinator's state on disk: each tenant's current configuration. It is the truth the
//! kernel is brought back to after a daemon restart or a module reload, so it is replaced
//! atomically: a crash leaves either the old file or the new one, never a torn one.

use crate::atomic::AtomicFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bumped if the file's layout changes incompatibly.
pub const STATE_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub version: u32,
    /// By tenant name. A tenant that left the system config keeps its entry: it is not
    /// installed, but not forgotten either.
    pub tenants: BTreeMap<String, TenantConfig>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TenantConfig {
    /// The name the tenant's file had, for diagnostics.
    pub file_name: String,
    /// The Click source, as the tenant sent it.
    pub source: String,
    /// Seconds since the epoch when it was accepted.
    pub installed_at: u64,
    /// The tenant's container engine's classes, as it declared them; none for the stock engine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<vdp_click::decl::ClassDecl>,
}

impl State {
    pub fn new() -> State {
        State { version: STATE_VERSION, tenants: BTreeMap::new() }
    }
}

/// Reads the state; a missing file is an empty state (first start).
pub fn load(path: &Path) -> anyhow::Result<State> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new()),
        Err(e) => return Err(anyhow::anyhow!("cannot read the state file {}: {e}", path.display())),
    };
    let state: State = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("the state file {} is not valid: {e}; move it aside to start empty", path.display()))?;
    if state.version != STATE_VERSION {
        anyhow::bail!("the state file {} has version {}, this coordinator reads version {STATE_VERSION}", path.display(), state.version);
    }
    Ok(state)
}

/// Writes the state to a temporary file beside `path` and renames it over `path`
/// ([`AtomicFile`]), creating the directory first.
pub fn save(path: &Path, state: &State) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut file = AtomicFile::create(path)?;
    let mut text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    text.push(b'\n');
    file.write_all(&text)?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vdp-state-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn sample() -> State {
        let mut state = State::new();
        state.tenants.insert(
            "red".into(),
            TenantConfig { file_name: "red.click".into(), source: "a :: Counter;\n\"quoted\"\n".into(), installed_at: 1_700_000_000, classes: Vec::new() },
        );
        state
    }

    #[test]
    fn a_missing_file_is_an_empty_state() {
        let dir = scratch("missing");
        assert_eq!(load(&dir.join("state.json")).unwrap(), State::new());
    }

    #[test]
    fn saves_and_loads_back_creating_the_directory() {
        let dir = scratch("roundtrip");
        let path = dir.join("deeper/state.json");
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), sample());
        let mut changed = sample();
        changed.tenants.clear();
        save(&path, &changed).unwrap();
        assert_eq!(load(&path).unwrap(), changed);
        // Only the state file is left: the temporary one was renamed over it.
        let names: Vec<_> = std::fs::read_dir(dir.join("deeper")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["state.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_save_leaves_the_old_file_whole() {
        let dir = scratch("failed");
        let path = dir.join("state.json");
        save(&path, &sample()).unwrap();
        // A directory where the temporary file must go makes the write fail before the rename.
        std::fs::create_dir(crate::atomic::temp_path(&path)).unwrap();
        assert!(save(&path, &State::new()).is_err());
        assert_eq!(load(&path).unwrap(), sample());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_or_foreign_files_are_reported_not_emptied() {
        let dir = scratch("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        std::fs::write(&path, "{\"version\": 1, \"tenants\": {").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("move it aside"));
        std::fs::write(&path, "{\"version\": 9, \"tenants\": {}}").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("version 9"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
