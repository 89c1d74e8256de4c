//! "Did you mean" suggestions: the closest candidate by edit distance, if close enough.
//!
//! A linter asks this for every broken link against every name in a folder, so the distance is
//! bounded: a candidate is dropped as soon as it cannot beat the best one found so far, and the
//! common prefix and suffix (`runbook-` … `.md`) are skipped before any table is filled.

/// The candidate nearest to `wanted`, when at most about a third of it would have to change.
/// Ties go to the candidate that sorts first, so the answer does not depend on iteration order.
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    closest(
        wanted,
        candidates
            .into_iter()
            .map(|name| (name, char_count(name), Lazy::Text(name))),
    )
}

/// Candidates prepared once for many questions: a folder's names, asked about for every broken
/// link into the folder. Each name's length and histogram are worked out here instead of per
/// question, which on a large folder was most of a lint run's suggestion time.
#[derive(Debug, Default)]
pub struct Candidates {
    names: Vec<(Box<str>, usize, Histogram)>,
}

impl Candidates {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Candidates {
        Candidates {
            names: names
                .into_iter()
                .map(|name| (name.into(), char_count(name), Histogram::of(name)))
                .collect(),
        }
    }

    /// [`nearest`] over these candidates: the same answer, for less work per question.
    pub fn nearest(&self, wanted: &str) -> Option<&str> {
        closest(
            wanted,
            self.names
                .iter()
                .map(|(name, length, histogram)| (&**name, *length, Lazy::Ready(histogram))),
        )
    }
}

/// A candidate's histogram: counted when first needed, or counted beforehand.
enum Lazy<'a> {
    Text(&'a str),
    Ready(&'a Histogram),
}

/// Characters in `text`; byte length is the count for ASCII, without a counting pass.
fn char_count(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

fn closest<'a, 'h>(
    wanted: &str,
    candidates: impl Iterator<Item = (&'a str, usize, Lazy<'h>)>,
) -> Option<&'a str> {
    let wanted_chars: Vec<char> = wanted.chars().collect();
    let limit = (wanted_chars.len() / 3).max(2);
    let wanted_histogram = Histogram::of(wanted);
    let mut scratch = Scratch::default();
    let mut best: Option<(usize, &'a str)> = None;
    for (candidate, length, histogram) in candidates {
        if candidate == wanted {
            continue;
        }
        let bound = best.map_or(limit, |(d, _)| d);
        // The edit distance is at least the difference in length: skip hopeless candidates.
        if length.abs_diff(wanted_chars.len()) > bound {
            continue;
        }
        // Most names in a folder differ from the wanted one in many characters: a histogram
        // comparison rejects them for a fraction of the cost of the distance table.
        let lower = match histogram {
            Lazy::Text(text) => wanted_histogram.lower_bound(&Histogram::of(text)),
            Lazy::Ready(histogram) => wanted_histogram.lower_bound(histogram),
        };
        if lower > bound {
            continue;
        }
        let Some(distance) = scratch.bounded(wanted, &wanted_chars, candidate, bound) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((d, c)) => distance < d || (distance == d && candidate < c),
        };
        if better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Character counts folded into a few buckets. One edit (insert, delete or substitute) changes
/// the counts by at most 2 in total, so half the summed difference bounds the edit distance
/// from below; folding characters together only lowers that bound, keeping it valid, and so
/// does saturating a count at 255. Bytes, so that comparing two is a few vector instructions.
#[derive(Debug)]
struct Histogram([u8; Histogram::BUCKETS]);

impl Histogram {
    const BUCKETS: usize = 32;

    fn of(text: &str) -> Histogram {
        let mut counts = [0u8; Histogram::BUCKETS];
        for c in text.chars() {
            let bucket = &mut counts[c as usize % Histogram::BUCKETS];
            *bucket = bucket.saturating_add(1);
        }
        Histogram(counts)
    }

    /// A lower bound on the edit distance between the texts counted in `self` and `other`.
    fn lower_bound(&self, other: &Histogram) -> usize {
        let total: u32 = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| u32::from(a.abs_diff(*b)))
            .sum();
        total.div_ceil(2) as usize
    }
}

/// Buffers reused across candidates, so a long candidate list allocates once.
#[derive(Default)]
struct Scratch {
    chars: Vec<char>,
    row: Vec<usize>,
}

impl Scratch {
    /// The Levenshtein distance between `a` (also given as chars) and `b`, or `None` when it
    /// exceeds `bound`.
    fn bounded(&mut self, a: &str, a_chars: &[char], b: &str, bound: usize) -> Option<usize> {
        if a.is_ascii() && b.is_ascii() {
            return levenshtein_within(a.as_bytes(), b.as_bytes(), bound, &mut self.row);
        }
        self.chars.clear();
        self.chars.extend(b.chars());
        levenshtein_within(a_chars, &self.chars, bound, &mut self.row)
    }
}

/// Levenshtein distance with an upper bound: `None` as soon as every cell of a row exceeds it.
fn levenshtein_within<T: PartialEq>(
    a: &[T],
    b: &[T],
    bound: usize,
    row: &mut Vec<usize>,
) -> Option<usize> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    if a.is_empty() || b.is_empty() {
        return Some(a.len().max(b.len()));
    }
    row.clear();
    row.extend(0..=b.len());
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        let mut row_min = row[0];
        for (j, y) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(x != y);
            diagonal = row[j + 1];
            let cell = substitution.min(diagonal + 1).min(row[j] + 1);
            row[j + 1] = cell;
            row_min = row_min.min(cell);
        }
        if row_min > bound {
            return None;
        }
    }
    let distance = row[b.len()];
    (distance <= bound).then_some(distance)
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

    #[test]
    fn ties_go_to_the_first_in_order_and_exact_matches_are_skipped() {
        assert_eq!(nearest("ab", ["ac", "aa", "ab"]), Some("aa"));
        assert_eq!(nearest("ab", ["ab"]), None);
        assert_eq!(
            nearest(
                "runbook-0042.md",
                ["runbook-0043.md", "runbook-0142.md", "runbook-0041.md"]
            ),
            Some("runbook-0041.md")
        );
    }

    #[test]
    fn non_ascii_counts_characters() {
        assert_eq!(
            nearest("café-über", ["cafe-uber", "other"]),
            Some("cafe-uber")
        );
        assert_eq!(
            nearest("日本語の見出し", ["日本語の見だし"]),
            Some("日本語の見だし")
        );
    }

    /// Prepared candidates answer exactly as the one-off search does.
    #[test]
    fn prepared_candidates_answer_as_nearest() {
        let names = [
            "runbook-0042.md",
            "runbook-4200.md",
            "okta.md",
            "okat.md",
            "ünïcödé.md",
            "README.md",
            "readme.md",
            "a",
            "",
            "kitten",
            "sitting",
        ];
        let prepared = Candidates::new(names);
        for wanted in names
            .iter()
            .chain(&["runbook-0043.md", "unicode.md", "oktaa.md", "zzz"])
        {
            assert_eq!(
                prepared.nearest(wanted),
                nearest(wanted, names),
                "{wanted:?}"
            );
        }
    }

    /// The histogram bound never exceeds the true distance, or good candidates would be lost.
    #[test]
    fn histogram_bound_is_a_lower_bound() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "kitten",
            "sitting",
            "runbook-0042.md",
            "runbook-4200.md",
            "über",
            "uber",
            "ünïcödé",
            "validation-checklist",
            "verification",
        ];
        for a in words {
            for b in words {
                let bound = Histogram::of(a).lower_bound(&Histogram::of(b));
                assert!(bound <= strsim::levenshtein(a, b), "{a:?} {b:?} {bound}");
            }
        }
        assert_eq!(Histogram::of("abc").lower_bound(&Histogram::of("xyz")), 3);
    }

    /// The bounded distance agrees with the textbook one wherever it answers.
    #[test]
    fn bounded_distance_matches_strsim() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "kitten",
            "sitting",
            "saturday",
            "sunday",
            "flaw",
            "lawn",
            "runbook-0042.md",
            "runbook-4200.md",
            "über",
            "uber",
            "ünïcödé",
        ];
        let mut row = Vec::new();
        for a in words {
            for b in words {
                let (ac, bc): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                let exact = strsim::levenshtein(a, b);
                for bound in 0..6 {
                    let got = levenshtein_within(&ac, &bc, bound, &mut row);
                    assert_eq!(
                        got,
                        (exact <= bound).then_some(exact),
                        "{a:?} {b:?} {bound}"
                    );
                }
            }
        }
    }
}
