//! Context-aware completion for the prompt: clause keywords, columns,
//! metrics, model names in strings, policies, formats, meta commands, and
//! lexical-tree terms after `#` (with quoting, qualifiers and path steps).

use crate::bind::Relation;
use crate::scoring::Policy;
use crate::tree::{quote_term, Tree, ABBREVIATIONS, DIMENSIONS};

/// What completion knows of the session.
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    pub tree: Tree,
    pub models: Vec<String>,
    /// The loaded datasets (`.item DATASET/INDEX`).
    pub datasets: Vec<String>,
    /// The columns of `results` as the session has them.
    pub columns: Vec<String>,
}

/// A completion: what is shown in the list and what replaces the word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub display: String,
    pub replacement: String,
}

/// The meta commands and what they do; `{policies}` in a description
/// stands for the policy names (see [`meta_commands`]).
pub const META_COMMANDS: &[(&str, &str)] = &[
    (
        ".help [functions|NAME]",
        "this table; the functions expressions may call, or one of them",
    ),
    (
        ".tree [PATH|DATASET|DATASET=PATHS]",
        "the lexical tree with item counts; drill down with a path: .tree DD, .tree DD/CT; another dataset's tree: .tree DATASET; declare one: .tree DATASET=col>col;col",
    ),
    (".models", "models with coverage and accuracy"),
    (
        ".item [DATASET/]INDEX",
        "one item: question, options with the key marked, each model's choice and prediction, and its image (inline on kitty and iTerm2, else a temporary file)",
    ),
    (".schema", "the columns of results"),
    (
        ".load items|predictions PATH",
        "add a dataset's items (replacing one of the same name), or predictions, and score again",
    ),
    (
        ".policy [NAME]",
        "show or set the extraction policy: {policies}",
    ),
    (
        ".format [NAME]",
        "show or set the output format: table, csv, tsv, json, ndjson, markdown",
    ),
    (
        ".maxrows [N]",
        "show or set the rows a table shows (0: all); the footer gives the total",
    ),
    (
        ".timer on|off",
        "show parse, plan, execute and render times after each result",
    ),
    (".read FILE", "run the statements of a query file"),
    (".save FILE", "write the last statement to a query file"),
    (".quit", "leave (also Ctrl-D)"),
];

/// The meta commands and what they do, for `.help`.
pub fn meta_commands() -> Vec<(&'static str, String)> {
    let policies = Policy::names().join(", ");
    META_COMMANDS
        .iter()
        .map(|(c, d)| (*c, d.replace("{policies}", &policies)))
        .collect()
}

use crate::syntax::keywords::{of_role, Role};

/// The clause keywords, in the order a query takes them.
fn clauses() -> Vec<&'static str> {
    of_role(Role::Clause).collect()
}

/// Keywords that start a statement other than a query.
fn statement_starts() -> Vec<&'static str> {
    of_role(Role::Statement).collect()
}

/// Operators and literals of conditions.
fn operators() -> Vec<&'static str> {
    of_role(Role::Operator)
        .chain(of_role(Role::Literal))
        .collect()
}

/// Metric names from the registry; one taking a column completes with `(`.
fn metric_names() -> Vec<&'static str> {
    use crate::metrics::registry::{Arg, METRICS};
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            METRICS
                .iter()
                .map(|m| match m.arg {
                    Arg::Column => format!("{}(", m.name),
                    _ => m.name.to_string(),
                })
                .collect()
        })
        .iter()
        .map(String::as_str)
        .collect()
}

/// The scalar functions expressions may call, each completing with `(`.
fn function_names() -> Vec<&'static str> {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            crate::bind::functions::callable()
                .into_iter()
                .map(|f| format!("{f}("))
                .collect()
        })
        .iter()
        .map(String::as_str)
        .collect()
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '(' | ')' | ';' | '=' | '<' | '>' | '!')
}

/// The byte offset where the word being typed starts: quotes keep their
/// contents (and a `#` or `#qualifier:` before them) in one word.
pub fn word_start(text: &str) -> usize {
    let mut start = 0;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if is_separator(c) => start = i + c.len_utf8(),
            None => {}
        }
    }
    start
}

/// Lower-cased words of `text` outside quotes and comments.
fn words(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                    out.push("'…'".to_string());
                }
            }
            None if c == '\'' || c == '"' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur).to_lowercase());
                }
                quote = Some(c);
            }
            None if c == '-' && chars.peek() == Some(&'-') => {
                for c2 in chars.by_ref() {
                    if c2 == '\n' {
                        break;
                    }
                }
            }
            None if c.is_alphanumeric() || c == '_' || c == '#' || c == '.' => cur.push(c),
            None => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur).to_lowercase());
                }
                if !c.is_whitespace() {
                    out.push(c.to_string());
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur.to_lowercase());
    }
    out
}

fn matching<'a>(prefix: &str, items: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let p = prefix.to_lowercase();
    let all: Vec<&str> = items.into_iter().collect();
    let mut out: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| c.to_lowercase().starts_with(&p))
        .collect();
    if out.is_empty() && p.chars().count() >= 2 {
        out = all
            .iter()
            .copied()
            .filter(|c| c.to_lowercase().contains(&p))
            .collect();
    }
    out.sort_by_key(|c| c.to_lowercase());
    out.dedup();
    out
}

fn plain(items: Vec<&str>) -> Vec<Candidate> {
    items
        .into_iter()
        .map(|c| Candidate {
            display: c.to_string(),
            replacement: c.to_string(),
        })
        .collect()
}

/// Completions for `text`, the buffer before the cursor: the start of the
/// word being replaced and the candidates.
pub fn complete(v: &Vocabulary, text: &str) -> (usize, Vec<Candidate>) {
    let start = word_start(text);
    let word = &text[start..];
    let before = &text[..start];
    let trimmed = text.trim_start();

    // Meta commands and their arguments.
    if trimmed.starts_with('.') {
        let lead = text.len() - trimmed.len();
        if start <= lead {
            let names = META_COMMANDS
                .iter()
                .map(|(c, _)| c.split(' ').next().unwrap_or(c));
            return (start, plain(matching(word, names)));
        }
        let ws = words(before);
        let cmd = ws.first().map(String::as_str).unwrap_or("");
        let cands = match (cmd, ws.len()) {
            (".load", 1) => matching(word, ["items", "predictions"]),
            (".policy", 1) => matching(word, Policy::spellings()),
            (".format", 1) => matching(word, crate::render::Format::NAMES),
            (".timer", 1) => matching(word, ["on", "off"]),
            (".item", 1) => {
                let named: Vec<String> = v.datasets.iter().map(|d| format!("{d}/")).collect();
                return (
                    start,
                    plain(matching(word, named.iter().map(String::as_str))),
                );
            }
            (".tree", _) => return (start, term_candidates(v, word, "")),
            _ => vec![],
        };
        return (start, plain(cands));
    }

    if let Some(body) = word.strip_prefix('#') {
        return (start, term_candidates(v, body, "#"));
    }
    if let Some(q) = word.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let partial = &word[1..];
        let cands = matching(partial, v.models.iter().map(String::as_str))
            .into_iter()
            .map(|m| Candidate {
                display: m.to_string(),
                replacement: format!("{q}{m}{q}"),
            })
            .collect();
        return (start, cands);
    }

    let ws = words(before);
    let last = ws.last().map(String::as_str).unwrap_or("");
    // `set policy = ...`
    if ws.len() >= 2 && ws[ws.len() - 2] == "policy" && last == "=" {
        return (start, plain(matching(word, Policy::spellings())));
    }
    if last == "set" {
        return (
            start,
            plain(matching(word, ["policy", "bootstrap", "seed"])),
        );
    }
    let clause = ws
        .iter()
        .rev()
        .find(|w| clauses().contains(&w.as_str()) || *w == "vs")
        .map(String::as_str);
    let columns = || {
        let mut c: Vec<&str> = v.columns.iter().map(String::as_str).collect();
        if !c.contains(&"policy") {
            c.push("policy");
        }
        c.push("dept");
        c
    };
    let later = |from: &str| -> Vec<&'static str> {
        let all = clauses();
        let pos = all.iter().position(|c| *c == from).unwrap_or(0);
        all[pos + 1..].to_vec()
    };
    let cands: Vec<&str> = match clause {
        None => {
            let mut c = clauses();
            c.extend(statement_starts());
            c
        }
        Some("from") => {
            if last == "from" {
                Relation::ALL.iter().map(|r| r.name()).collect()
            } else {
                later("from")
            }
        }
        Some("score") => {
            if last == "macro" || (ws.len() >= 2 && ws[ws.len() - 2] == "macro" && last == "(") {
                columns()
            } else if last == "score" || last == "," {
                metric_names()
            } else {
                let mut c = later("score");
                c.push("as");
                c
            }
        }
        Some("compare") => vec!["each"],
        Some("vs") => vec!["best"],
        Some("limit") => vec!["per"],
        Some("pivot") => {
            let mut c = columns();
            c.extend(["with", "overall", "abbreviated", "sort", "limit"]);
            c
        }
        Some("sort") => {
            let mut c = columns();
            c.extend(["asc", "desc", "acc", "n", "limit"]);
            c
        }
        Some(cl) => {
            let mut c = columns();
            if matches!(cl, "where" | "having") {
                c.extend(operators());
            }
            c.extend(later(cl));
            // Functions, once a word is begun (not to flood the list).
            if matches!(cl, "where" | "having" | "by" | "show") && !word.is_empty() {
                c.extend(function_names());
            }
            c
        }
    };
    (start, plain(matching(word, cands)))
}

/// Candidates for a term body (`partial`, without the `#`), each replacement
/// starting with `lead`.
fn term_candidates(v: &Vocabulary, partial: &str, lead: &str) -> Vec<Candidate> {
    let t = &v.tree;
    // A qualifier?
    let (qualifier, body) = match partial.split_once(':') {
        Some((q, rest)) if !q.contains(['"', '\'', '/']) => (Some(q), rest),
        _ => (None, partial),
    };
    // Completed path steps, then the step being typed.
    let mut steps: Vec<String> = vec![];
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in body.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '/' => steps.push(std::mem::take(&mut cur)),
            None => cur.push(c),
        }
    }
    // `#ENT/HNS` is one name: while the whole body still prefixes a name, offer names.
    let prefix_of_steps = if steps.is_empty() {
        String::new()
    } else {
        let typed = &body[..body.rfind('/').map(|i| i + 1).unwrap_or(0)];
        typed.to_string()
    };
    let mut out: Vec<Candidate> = vec![];
    let head = match qualifier {
        Some(q) => format!("{lead}{q}:"),
        None => lead.to_string(),
    };
    let push_all = |out: &mut Vec<Candidate>, names: Vec<&str>, head: &str, path: &str| {
        for n in names {
            out.push(Candidate {
                display: n.to_string(),
                replacement: format!("{head}{path}{}", quote_term(n)),
            });
        }
    };
    match (qualifier, steps.len()) {
        (Some(q), 0) => {
            let dim = DIMENSIONS
                .iter()
                .find(|(_, quals)| quals.iter().any(|x| x.eq_ignore_ascii_case(q)))
                .map(|(d, _)| *d);
            if let Some(d) = dim {
                let mut names: Vec<&str> = t.values_of(d).keys().map(String::as_str).collect();
                names.extend(
                    ABBREVIATIONS
                        .iter()
                        .filter(|(x, _, _)| *x == d)
                        .map(|(_, a, _)| *a),
                );
                push_all(&mut out, matching(&cur, names), &head, "");
            } else {
                // Another dataset's tree column.
                let mut names: Vec<&str> = t
                    .generic
                    .iter()
                    .filter_map(|g| g.column(q.trim_matches('`')).map(|c| &g.values[c]))
                    .flat_map(|v| v.keys().map(String::as_str))
                    .collect();
                names.sort();
                names.dedup();
                push_all(&mut out, matching(&cur, names), &head, "");
            }
        }
        (None, 0) => {
            let names = t.all_names();
            let mut list: Vec<&str> = names.iter().map(String::as_str).collect();
            let quals = [
                "task:",
                "department:",
                "dept:",
                "granularity:",
                "modality:",
                "category:",
            ];
            list.extend(quals);
            // Other datasets' tree columns qualify too.
            let generic_quals: std::collections::BTreeSet<String> = t
                .generic
                .iter()
                .flat_map(|g| g.values.keys().map(|c| format!("{c}:")))
                .filter(|q| !quals.contains(&q.as_str()))
                .collect();
            list.extend(generic_quals.iter().map(String::as_str));
            let mut cands = matching(&cur, list);
            // Abbreviations and qualifiers first, then names.
            cands.sort_by_key(|c| (c.len() > 8, c.to_lowercase()));
            for n in cands {
                let rep = if n.ends_with(':') {
                    format!("{head}{n}")
                } else {
                    format!("{head}{}", quote_term(n))
                };
                out.push(Candidate {
                    display: n.to_string(),
                    replacement: rep,
                });
            }
        }
        (None, k) => {
            // A path: root value, then modality, then category.
            let whole = body.to_lowercase();
            let names = t.all_names();
            for n in names
                .iter()
                .filter(|n| n.contains('/') && n.to_lowercase().starts_with(&whole))
            {
                out.push(Candidate {
                    display: n.clone(),
                    replacement: format!("{head}{}", quote_term(n)),
                });
            }
            let root = steps[0].as_str();
            let mut root_values = vec![];
            for r in ["task", "department", "granularity"] {
                for (val, mods) in t.paths_of(r) {
                    let matches = val.eq_ignore_ascii_case(root)
                        || crate::tree::abbreviation(r, val)
                            .is_some_and(|a| a.eq_ignore_ascii_case(root))
                        || (r == "granularity"
                            && format!("{root} level").eq_ignore_ascii_case(val));
                    if matches {
                        root_values.push(mods);
                    }
                }
            }
            for mods in root_values {
                let names: Vec<&str> = if k == 1 {
                    mods.keys().map(String::as_str).collect()
                } else if k == 2 {
                    mods.iter()
                        .filter(|(m, _)| m.eq_ignore_ascii_case(&steps[1]))
                        .flat_map(|(_, cats)| cats.keys().map(String::as_str))
                        .collect()
                } else {
                    vec![]
                };
                push_all(&mut out, matching(&cur, names), &head, &prefix_of_steps);
            }
        }
        (Some(_), _) => {}
    }
    out.dedup_by(|a, b| a.replacement == b.replacement);
    out.truncate(500);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::demo_loaded;

    fn vocab() -> Vocabulary {
        let l = demo_loaded();
        Vocabulary {
            tree: Tree::build(&l.items),
            models: l.sets.iter().map(|s| s.model.clone()).collect(),
            datasets: l.items.datasets(),
            // As the demo session has them: no file with `thinking`.
            columns: crate::bind::columns::result_columns()
                .iter()
                .filter(|c| **c != "thinking")
                .map(|c| c.to_string())
                .collect(),
        }
    }

    fn reps(v: &Vocabulary, text: &str) -> Vec<String> {
        complete(v, text)
            .1
            .into_iter()
            .map(|c| c.replacement)
            .collect()
    }

    #[test]
    fn terms_are_quoted_when_they_need_it() {
        let v = vocab();
        assert_eq!(reps(&v, "where #Onc"), vec!["#\"Oncology (Medical)\""]);
        assert!(reps(&v, "where #mod").contains(&"#modality:".to_string()));
        let m = reps(&v, "where #modality:");
        assert!(m.contains(&"#modality:CT".to_string()), "{m:?}");
        assert!(
            m.contains(&"#modality:\"T2 weighted MRI\"".to_string()),
            "{m:?}"
        );
        let dd = reps(&v, "where #DD/");
        assert!(dd.contains(&"#DD/CT".to_string()), "{dd:?}");
        assert!(dd.contains(&"#DD/X-ray".to_string()), "{dd:?}");
        assert!(reps(&v, "where #ENT").contains(&"#\"ENT/HNS\"".to_string()));
        assert_eq!(complete(&v, "where task = 'x' and #Onc").0, 21);
    }

    #[test]
    fn clause_context() {
        let v = vocab();
        assert!(reps(&v, "by model score a").contains(&"acc".to_string()));
        // Every metric of the registry completes, `shift` and `flips` too.
        assert!(reps(&v, "by model score sh").contains(&"shift".to_string()));
        assert!(reps(&v, "by model score fl").contains(&"flips".to_string()));
        assert!(reps(&v, "by model score ma").contains(&"macro(".to_string()));
        assert!(reps(&v, "by mo").contains(&"model".to_string()));
        assert!(reps(&v, "by model score acc, ").contains(&"fail".to_string()));
        assert_eq!(reps(&v, "from i"), vec!["item_stats", "items"]);
        assert_eq!(reps(&v, "set b"), vec!["bootstrap"]);
        // Functions complete with their `(` where expressions go.
        assert!(reps(&v, "where leng").contains(&"length(".to_string()));
        assert!(reps(&v, "by model, regexp_l").contains(&"regexp_like(".to_string()));
        assert!(!reps(&v, "where rand").contains(&"random(".to_string()));
        assert_eq!(reps(&v, "set policy = l"), vec!["legacy"]);
        assert_eq!(
            reps(&v, "where model = 'demo-m"),
            vec!["'demo-medical-13b'"]
        );
        assert_eq!(reps(&v, "compare each vs b"), vec!["best"]);
        assert_eq!(reps(&v, ".tr"), vec![".tree"]);
        assert_eq!(reps(&v, ".policy c"), vec!["current"]);
        assert_eq!(reps(&v, ".item GM"), vec!["GMAI-MMBench_DEMO/"]);
        // Relations and columns come from the catalog's vocabulary.
        assert_eq!(reps(&v, "from c"), vec!["coverage"]);
        assert!(
            !reps(&v, "by th").contains(&"thinking".to_string()),
            "no file had a `thinking` column: {:?}",
            reps(&v, "by th")
        );
        assert!(reps(&v, "wh").contains(&"where".to_string()));
    }

    #[test]
    fn every_rule_set_completes() {
        let v = vocab();
        for p in Policy::all() {
            let name = p.name().to_string();
            assert!(reps(&v, "set policy = ").contains(&name), "{name}");
            assert!(reps(&v, ".policy ").contains(&name), "{name}");
            assert!(reps(&v, &format!("set policy = {}", &name[..1])).contains(&name));
        }
        for r in crate::scoring::rules::RULE_SETS {
            for c in ["choice", "rule", "correct"] {
                let col = format!("{c}_{}", r.name);
                assert!(reps(&v, "show ").contains(&col), "{col}");
            }
        }
        let help: Vec<(&str, String)> = meta_commands();
        let (_, policy) = help.iter().find(|(c, _)| c.starts_with(".policy")).unwrap();
        for n in Policy::names() {
            assert!(policy.contains(n), "{policy}");
        }
        assert!(help.iter().all(|(_, d)| !d.contains('{')));
    }
}
