//! The recently opened practices: the newest first, each once, at most
//! [`MAX_RECENT_PRACTICES`]. The desktop app keeps the list in its settings and the web
//! console in the browser; both apply this rule through the layer.

/// How many recently opened practices are remembered.
pub const MAX_RECENT_PRACTICES: usize = 10;

/// The list after `practice_id` was opened: it moves (or comes) to the front.
pub fn opened(recent: &[String], practice_id: &str) -> Vec<String> {
    tidy(std::iter::once(practice_id.to_string()).chain(recent.iter().cloned()))
}

/// A list as it may be kept: no blanks, no repeats (the first stays), at most
/// [`MAX_RECENT_PRACTICES`].
pub fn tidy(recent: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    recent
        .into_iter()
        .filter(|p| !p.trim().is_empty() && seen.insert(p.clone()))
        .take(MAX_RECENT_PRACTICES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_opened_practice_moves_to_the_front_once() {
        assert_eq!(opened(&ids(&["a", "b", "c"]), "c"), ids(&["c", "a", "b"]));
        assert_eq!(opened(&[], "a"), ids(&["a"]));
    }

    #[test]
    fn the_list_keeps_the_newest_ten_without_blanks() {
        let long: Vec<String> = (0..15).map(|i| format!("p{i}")).collect();
        let kept = opened(&long, " ");
        assert_eq!(kept.len(), MAX_RECENT_PRACTICES);
        assert_eq!(kept[0], "p0", "a blank id is not remembered");
    }
}
