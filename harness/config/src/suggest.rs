//! "Did you mean" suggestions: the closest candidate by edit distance, if close enough.

/// The candidate nearest to `wanted`, when at most about a third of it would have to change.
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted_len = wanted.chars().count();
    let limit = (wanted_len / 3).max(2);
    candidates
        .into_iter()
        // The edit distance is at least the difference in length: skip hopeless candidates.
        .filter(|c| *c != wanted && c.chars().count().abs_diff(wanted_len) <= limit)
        .map(|c| (strsim::levenshtein(wanted, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|(da, a), (db, b)| da.cmp(db).then_with(|| a.cmp(b)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_closest_within_limit() {
        let anchors = ["validation-checklist", "verification", "troubleshooting"];
        assert_eq!(
            nearest("validation-check-list", anchors),
            Some("validation-checklist")
        );
        assert_eq!(nearest("troubleshoting", anchors), Some("troubleshooting"));
        assert_eq!(nearest("something-else-entirely", anchors), None);
        assert_eq!(nearest("oka.md", ["okta.md", "auth0.md"]), Some("okta.md"));
    }
}
