//! Filters, twice: compiled to SQL for the store, and evaluated over an
//! in-memory row for the oracle. Both follow one definition:
//!
//! - a property's value is compared as text (numbers in their JSON form,
//!   booleans as `true`/`false`); `gt`/`gte`/`lt`/`lte` compare as numbers
//!   and never match a value that is not one;
//! - a missing (or JSON null) property matches only `neq`, `not_in`,
//!   `not_contains` and `is_not_set`, as in PostHog;
//! - `contains` ignores case; `regex` searches (it need not match whole);
//! - an empty AND or OR group matches everything.

use crate::columns::{self, ColumnType};
use crate::model::{Filter, Operator, Property, PropertyFilter, PropertyType};
use crate::sql::{Sql, json_path};
use serde_json::{Map, Value};

/// A filter value as a number, when it is one (or a numeric string).
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The text form a value is compared in.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Where a property is read in SQL, for a query whose events are `e` and
/// whose persons (when needed) are `pp`.
pub fn property_sql(p: &Property) -> (Sql, ColumnType) {
    let mut sql = Sql::new();
    let column = match p.kind {
        PropertyType::Column => columns::column(&p.key),
        PropertyType::Event => columns::event_alias(&p.key),
        PropertyType::Person => None,
    };
    match (column, p.kind) {
        (Some((name, ty)), _) => {
            sql.push("e.").push(name);
            return (sql, ty);
        }
        (None, PropertyType::Person) => sql.push("json_extract_string(pp.properties, "),
        (None, _) => sql.push("json_extract_string(e.properties, "),
    };
    sql.bind(json_path(&p.key)).push(")");
    (sql, ColumnType::Text)
}

/// Whether any filter reads person properties (the query must join them).
pub fn needs_persons<'a>(filters: impl IntoIterator<Item = &'a Filter>) -> bool {
    filters.into_iter().any(|f| match f {
        Filter::And { and } => needs_persons(and),
        Filter::Or { or } => needs_persons(or),
        Filter::Property(p) => p.kind == PropertyType::Person,
    })
}

/// All `filters` ANDed, as a SQL boolean.
pub fn to_sql(filters: &[Filter]) -> Sql {
    group_sql(filters, " AND ")
}

fn group_sql(filters: &[Filter], op: &str) -> Sql {
    let mut sql = Sql::new();
    if filters.is_empty() {
        sql.push("TRUE");
        return sql;
    }
    sql.push("(");
    for (i, f) in filters.iter().enumerate() {
        if i > 0 {
            sql.push(op);
        }
        let part = match f {
            Filter::And { and } => group_sql(and, " AND "),
            Filter::Or { or } => group_sql(or, " OR "),
            Filter::Property(p) => leaf_sql(p),
        };
        sql.append(part);
    }
    sql.push(")");
    sql
}

fn leaf_sql(f: &PropertyFilter) -> Sql {
    let (expr, ty) = property_sql(&f.property());
    let text = |e: Sql| -> Sql {
        let mut s = Sql::new();
        if ty == ColumnType::Integer {
            s.push("CAST(").append(e).push(" AS VARCHAR)");
        } else {
            s.append(e);
        }
        s
    };
    let mut sql = Sql::new();
    let value_text = text_of(&f.value).unwrap_or_default();
    match f.operator {
        Operator::Eq => {
            sql.push("(").append(text(expr)).push(" = ").bind(value_text).push(")");
        }
        Operator::Neq => {
            sql.push("(").append(text(expr)).push(" IS DISTINCT FROM ").bind(value_text).push(")");
        }
        Operator::In | Operator::NotIn => {
            let items: Vec<String> = match &f.value {
                Value::Array(a) => a.iter().filter_map(text_of).collect(),
                _ => Vec::new(),
            };
            let negated = f.operator == Operator::NotIn;
            let e = text(expr);
            if negated {
                sql.push("(").append(e.clone()).push(" IS NULL OR ");
            } else {
                sql.push("(");
            }
            sql.append(e).push(if negated { " NOT IN (" } else { " IN (" });
            for (i, v) in items.into_iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(v);
            }
            sql.push("))");
        }
        Operator::Contains | Operator::NotContains => {
            let e = text(expr);
            let negated = f.operator == Operator::NotContains;
            sql.push("(");
            if negated {
                sql.append(e.clone()).push(" IS NULL OR NOT ");
            }
            sql.push("contains(lower(").append(e).push("), ").bind(value_text.to_lowercase()).push("))");
        }
        Operator::Regex => {
            sql.push("regexp_matches(").append(text(expr)).push(", ").bind(value_text).push(")");
        }
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
            let op = match f.operator {
                Operator::Gt => " > ",
                Operator::Gte => " >= ",
                Operator::Lt => " < ",
                _ => " <= ",
            };
            sql.push("(TRY_CAST(").append(expr).push(" AS DOUBLE)").push(op);
            sql.bind(as_number(&f.value).unwrap_or(f64::NAN)).push(")");
        }
        Operator::IsSet => {
            sql.push("(").append(expr).push(" IS NOT NULL)");
        }
        Operator::IsNotSet => {
            sql.push("(").append(expr).push(" IS NULL)");
        }
    }
    sql
}

/// What the oracle needs from a row to evaluate filters.
pub trait PropertySource {
    /// A stored column by name.
    fn column(&self, name: &str) -> Option<Value>;
    fn event_properties(&self) -> &Map<String, Value>;
    fn person_properties(&self) -> Option<&Map<String, Value>>;

    fn property(&self, p: &Property) -> Option<Value> {
        let column = match p.kind {
            PropertyType::Column => columns::column(&p.key),
            PropertyType::Event => columns::event_alias(&p.key),
            PropertyType::Person => None,
        };
        let v = match (column, p.kind) {
            (Some((name, _)), _) => self.column(name),
            (None, PropertyType::Person) => self.person_properties().and_then(|m| m.get(&p.key)).cloned(),
            (None, _) => self.event_properties().get(&p.key).cloned(),
        };
        v.filter(|v| !v.is_null())
    }
}

/// All `filters` ANDed, evaluated over one row.
pub fn matches(filters: &[Filter], row: &dyn PropertySource) -> bool {
    filters.iter().all(|f| matches_one(f, row))
}

fn matches_one(f: &Filter, row: &dyn PropertySource) -> bool {
    match f {
        Filter::And { and } => and.iter().all(|f| matches_one(f, row)),
        Filter::Or { or } => or.is_empty() || or.iter().any(|f| matches_one(f, row)),
        Filter::Property(p) => leaf_matches(p, row),
    }
}

fn leaf_matches(f: &PropertyFilter, row: &dyn PropertySource) -> bool {
    let value = row.property(&f.property());
    let text = value.as_ref().and_then(text_of);
    let want = text_of(&f.value).unwrap_or_default();
    let list = || -> Vec<String> {
        match &f.value {
            Value::Array(a) => a.iter().filter_map(text_of).collect(),
            _ => Vec::new(),
        }
    };
    let number = || text.as_deref().and_then(|t| t.trim().parse::<f64>().ok());
    let bound = as_number(&f.value).unwrap_or(f64::NAN);
    match f.operator {
        Operator::Eq => text.as_deref() == Some(want.as_str()),
        Operator::Neq => text.as_deref() != Some(want.as_str()),
        Operator::In => text.is_some_and(|t| list().contains(&t)),
        Operator::NotIn => text.is_none_or(|t| !list().contains(&t)),
        Operator::Contains => text.is_some_and(|t| t.to_lowercase().contains(&want.to_lowercase())),
        Operator::NotContains => text.is_none_or(|t| !t.to_lowercase().contains(&want.to_lowercase())),
        Operator::Regex => text.is_some_and(|t| regex::Regex::new(&want).map(|re| re.is_match(&t)).unwrap_or(false)),
        Operator::Gt => number().is_some_and(|n| n > bound),
        Operator::Gte => number().is_some_and(|n| n >= bound),
        Operator::Lt => number().is_some_and(|n| n < bound),
        Operator::Lte => number().is_some_and(|n| n <= bound),
        Operator::IsSet => value.is_some(),
        Operator::IsNotSet => value.is_none(),
    }
}
