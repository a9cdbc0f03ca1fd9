//! Parameters written into a statement's text as typed literals.

use crate::event_store::SqlParam;
use crate::{Result, StoreError};

/// `sql` with each `?` outside quotes and comments replaced by its
/// parameter as a typed literal: `CAST(.. AS BIGINT)`, `CAST('..' AS
/// DOUBLE)`, `TRUE`/`FALSE`, `CAST('..' AS VARCHAR)`. Text is quoted
/// strictly: DuckDB's `'..'` strings know no escape but `''`, so doubling
/// every `'` leaves no way out of the literal, and the values are never
/// scanned for `?`. The casts give each value the type it had as a bound
/// parameter.
pub fn inline_params(sql: &str, params: &[SqlParam]) -> Result<String> {
    #[derive(PartialEq)]
    enum In {
        Code,
        Text,
        Name,
        LineComment,
        BlockComment,
    }
    let mut out = String::with_capacity(sql.len() + 32 * params.len());
    let mut next = params.iter();
    let mut state = In::Code;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (&state, c) {
            (In::Code, '?') => {
                let p = next.next().ok_or_else(|| {
                    StoreError::Internal(format!("duckdb: the statement takes more than {} parameters", params.len()))
                })?;
                match p {
                    SqlParam::Int(v) => out.push_str(&format!("CAST({v} AS BIGINT)")),
                    SqlParam::Float(v) => out.push_str(&format!("CAST('{v}' AS DOUBLE)")),
                    SqlParam::Bool(v) => out.push_str(if *v { "TRUE" } else { "FALSE" }),
                    SqlParam::Text(v) => {
                        if v.contains('\0') {
                            return Err(StoreError::Invalid("a text value contains a NUL character".into()));
                        }
                        out.push_str("CAST('");
                        out.push_str(&v.replace('\'', "''"));
                        out.push_str("' AS VARCHAR)");
                    }
                }
                continue;
            }
            (In::Code, '\'') => state = In::Text,
            (In::Code, '"') => state = In::Name,
            (In::Code, '-') if chars.peek() == Some(&'-') => state = In::LineComment,
            (In::Code, '/') if chars.peek() == Some(&'*') => {
                out.push(c);
                out.extend(chars.next());
                state = In::BlockComment;
                continue;
            }
            // A doubled quote closes and reopens: the state comes back.
            (In::Text, '\'') | (In::Name, '"') => state = In::Code,
            (In::LineComment, '\n') => state = In::Code,
            (In::BlockComment, '*') if chars.peek() == Some(&'/') => {
                out.push(c);
                if let Some(slash) = chars.next() {
                    out.push(slash);
                }
                state = In::Code;
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    if next.next().is_some() {
        let used = params.len() - next.count() - 1;
        return Err(StoreError::Internal(format!(
            "duckdb: the statement takes {used} parameters, {} were given",
            params.len()
        )));
    }
    Ok(out)
}
