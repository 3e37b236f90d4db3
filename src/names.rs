//! Name suggestions: the nearest known names to a misspelt one.

/// Edit distance between two strings (optimal string alignment: insertions,
/// deletions, substitutions and adjacent transpositions), case-insensitive,
/// in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// Up to `k` candidates nearest to `name`, nearest first; candidates that
/// start with or contain the name rank first.
pub fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    k: usize,
) -> Vec<&'a str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            let cl = c.to_lowercase();
            let d = if cl.starts_with(&lower)
                || (lower.len() >= 3 && cl.contains(&lower))
                || (cl.len() >= 3 && lower.starts_with(&cl))
            {
                0
            } else if lower.len() >= 2 && is_subsequence(&lower, &cl) {
                1
            } else {
                distance(name, c) + 1
            };
            (d, c)
        })
        .collect();
    scored.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.len().cmp(&b.1.len()))
            .then(a.1.cmp(b.1))
    });
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(k).map(|(_, c)| c).collect()
}

/// True when the characters of `short` occur in `long` in order (`dept` in `department`).
fn is_subsequence(short: &str, long: &str) -> bool {
    let mut it = long.chars();
    short.chars().all(|c| it.any(|x| x == c))
}

/// "did you mean `x`?" when one candidate is close enough, else None.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let best = nearest(name, candidates, 1);
    let b = best.first()?;
    let limit = (name.chars().count() / 3).max(1);
    let (n, c) = (name.to_lowercase(), b.to_lowercase());
    (distance(name, b) <= limit || c.starts_with(&n) || (c.len() >= 3 && n.starts_with(&c)))
        .then(|| format!("did you mean `{b}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(distance("acx", "acc"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("modle", "model"), 1);
        assert_eq!(
            nearest("dept", ["department", "modality", "task"], 1),
            vec!["department"]
        );
        assert_eq!(
            did_you_mean("acx", ["n", "acc", "hits"]).as_deref(),
            Some("did you mean `acc`?")
        );
        assert_eq!(did_you_mean("zzzzzz", ["n", "acc"]), None);
    }
}
