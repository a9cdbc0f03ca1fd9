//! SQL text with bound parameters, and the expressions that differ between
//! SQL dialects.
//!
//! Generated SQL reads only the store's project-scoped relations
//! `{events}`, `{events_no_person}`, `{persons}` and `{distinct_ids}` (see
//! [`px_store::EventStore::query`]): it cannot name another project's rows.
//! User input never enters the text built here: values are parameters
//! (which the store binds or writes as strictly quoted literals, see
//! [`px_store::EventStore::query`]), and the only identifiers are column
//! names from [`crate::columns::COLUMNS`].

pub use px_store::SqlParam;

/// A statement under construction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    pub text: String,
    pub params: Vec<SqlParam>,
}

impl Sql {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a `?` bound to `p`.
    pub fn bind(&mut self, p: impl Into<SqlParam>) -> &mut Self {
        self.text.push('?');
        self.params.push(p.into());
        self
    }

    /// Appends another statement fragment with its parameters.
    pub fn append(&mut self, other: Sql) -> &mut Self {
        self.text.push_str(&other.text);
        self.params.extend(other.params);
        self
    }
}

/// `e.event` is a page view under any of its names
/// ([`px_core::props::PAGE_VIEW_EVENTS`]). DuckDB filters the scan on this
/// short list before it reads the other columns: on 100M events the page
/// views' session, time and path come out in half the time a semi join
/// on the names takes (340-400 ms against 740-760 ms, `px bench query --sql`).
pub fn is_page_view() -> Sql {
    let mut s = Sql::new();
    s.push("e.event IN (");
    for (i, name) in px_core::props::PAGE_VIEW_EVENTS.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(*name);
    }
    s.push(")");
    s
}

/// The JSON path of a top-level key, quoted so that any key (dots,
/// brackets, quotes) names exactly itself. Bound as a parameter.
pub fn json_path(key: &str) -> String {
    let mut p = String::with_capacity(key.len() + 5);
    p.push_str("$.\"");
    for c in key.chars() {
        if c == '"' || c == '\\' {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('"');
    p
}

/// Local microseconds of the `timestamp` column: the UTC instant plus the
/// zone offset in force at it (see [`crate::time::OffsetMap`]).
pub fn local_micros(offsets: &crate::time::OffsetMap, column: &str) -> String {
    let utc = format!("epoch_us({column})");
    if offsets.pieces.len() == 1 {
        return format!("({utc} + {})", offsets.pieces[0].1);
    }
    let mut s = format!("({utc} + CASE");
    for w in offsets.pieces.windows(2) {
        s.push_str(&format!(" WHEN {utc} < {} THEN {}", w[1].0, w[0].1));
    }
    let last = offsets.pieces.last().map_or(0, |p| p.1);
    s.push_str(&format!(" ELSE {last} END)"));
    s
}

/// SQL for [`crate::time::bucket_start`]: the bucket of local microseconds.
pub fn bucket_expr(local: &str, interval: crate::model::Interval, week_start: crate::model::WeekStart) -> String {
    use crate::model::{Interval, WeekStart};
    use px_core::time::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE};
    // Integer division rounds toward zero; every stored instant is after
    // 2000, so local microseconds are positive and that is the floor.
    match interval {
        Interval::Minute => format!("({local} // {MICROS_PER_MINUTE} * {MICROS_PER_MINUTE})"),
        Interval::Hour => format!("({local} // {MICROS_PER_HOUR} * {MICROS_PER_HOUR})"),
        Interval::Day => format!("({local} // {MICROS_PER_DAY} * {MICROS_PER_DAY})"),
        Interval::Week => {
            let shift = if week_start == WeekStart::Monday { 3 } else { 4 };
            format!("(({local} // {MICROS_PER_DAY} - ({local} // {MICROS_PER_DAY} + {shift}) % 7) * {MICROS_PER_DAY})")
        }
        Interval::Month => format!("epoch_us(date_trunc('month', make_timestamp({local})))"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn json_paths_quote_every_key() {
        assert_eq!(json_path("plan"), r#"$."plan""#);
        assert_eq!(json_path(r#"a."b\"#), r#"$."a.\"b\\""#);
    }
}
