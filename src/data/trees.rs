//! Lexical trees declared for datasets: `--tree DATASET=PATHS` (paths of
//! columns, `;`-separated, each `>`-separated from its root), or a file of
//! such lines. The tree module builds the trees; loading only reads the
//! declarations.

/// A dataset's declared tree: its name and its paths of columns.
pub type Declared = (String, Vec<Vec<String>>);

/// `--tree` declarations: `DATASET=PATHS`, where PATHS is `;`-separated
/// paths of `>`-separated columns (names or headers, any case). A value
/// without `=` is a file with one such line per dataset (`#` comments).
pub fn parse_declarations(specs: &[String]) -> Result<Vec<Declared>, String> {
    let mut out = vec![];
    for spec in specs {
        if spec.contains('=') {
            out.push(parse_line(spec)?);
            continue;
        }
        let text = std::fs::read_to_string(spec).map_err(|e| format!("--tree {spec}: {e}"))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            out.push(parse_line(line).map_err(|e| format!("{spec}, line {}: {e}", n + 1))?);
        }
    }
    Ok(out)
}

/// One `DATASET=PATHS`.
fn parse_line(line: &str) -> Result<Declared, String> {
    let (dataset, paths) = line
        .split_once('=')
        .ok_or_else(|| format!("`{line}`: expected DATASET=col>col;col"))?;
    let dataset = dataset.trim();
    if dataset.is_empty() {
        return Err(format!("`{line}`: no dataset before `=`"));
    }
    let mut out = vec![];
    for p in paths.split(';') {
        let cols: Vec<String> = p
            .split('>')
            .map(|c| c.trim().trim_matches('`').to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if !cols.is_empty() {
            out.push(cols);
        }
    }
    if out.is_empty() {
        return Err(format!("`{line}`: no columns after `=`"));
    }
    Ok((dataset.to_string(), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_parse() {
        let d = parse_declarations(&[
            "GMAI-MMBench_VAL=task>modality>category;department>modality>category".into(),
        ])
        .unwrap();
        assert_eq!(d[0].0, "GMAI-MMBench_VAL");
        assert_eq!(d[0].1.len(), 2);
        assert_eq!(d[0].1[1], ["department", "modality", "category"]);
        assert!(parse_declarations(&["X=".into()]).is_err());
        assert!(parse_declarations(&["=a>b".into()]).is_err());
    }
}
