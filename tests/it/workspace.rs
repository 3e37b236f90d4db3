//! The workspace's two builds share one compiled DataFusion: `cargo test`
//! (medql with its dev-dependencies) and the Python package's build
//! (`python/`) must turn on the same features in every crate both use,
//! else `.ci/run` compiles DataFusion twice. The root Cargo.toml's
//! dev-dependencies and `python/Cargo.toml` pin the features that differ.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each crate of a build (name and version) with its features.
fn features(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--offline", "--prefix", "none"])
        .args(["--format", "{p}|{f}"])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((p, f)) = line.split_once('|') else {
            continue;
        };
        // `name vX.Y.Z (path) (*)`: the name and version name the crate.
        let mut words = p.split_whitespace();
        let key = format!(
            "{} {}",
            words.next().unwrap_or(""),
            words.next().unwrap_or("")
        );
        let f: BTreeSet<String> = f
            .split(',')
            .filter(|x| !x.is_empty())
            .map(|x| x.trim_end_matches(" (*)").to_string())
            .collect();
        // A crate built for the host (build scripts) and the target may
        // have two feature sets; keep each as its own entry.
        let entry = map.entry(key.clone()).or_default();
        if entry.is_empty() || *entry == f {
            *entry = f;
        } else {
            let mut n = 2;
            while map.contains_key(&format!("{key} #{n}")) {
                n += 1;
            }
            map.insert(format!("{key} #{n}"), f);
        }
    }
    map
}

#[test]
fn the_python_build_turns_on_the_features_the_test_build_does() {
    let tests = features(&["-p", "medql", "-e", "normal,build,dev"]);
    let python = features(&["-p", "medql-python", "-e", "normal,build"]);
    assert!(tests.keys().any(|k| k.starts_with("datafusion ")));
    assert!(python.keys().any(|k| k.starts_with("pyo3 ")));
    let mut differ = vec![];
    for (k, f) in &tests {
        if k.starts_with("medql ") {
            continue;
        }
        if let Some(g) = python.get(k) {
            if f != g {
                differ.push(format!(
                    "{k}: cargo test has {:?}, the Python build {:?}",
                    f.difference(g).collect::<Vec<_>>(),
                    g.difference(f).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "pin these features (root dev-dependencies or python/Cargo.toml):\n{}",
        differ.join("\n")
    );
}
