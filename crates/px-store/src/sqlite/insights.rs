//! Insight rows in SQLite. Every statement filters on tenant and project.

use crate::meta_store::{Insight, InsightFilter, InsightStatus, InsightUpdate, NewInsight};
use crate::{Result, StoreError};
use px_core::ProjectScope;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

const COLUMNS: &str = "id, key, insight_type, kind, priority, impact, reach, status, rating, body, \
                       first_detected_at, last_detected_at";

fn from_row(r: &SqliteRow) -> Result<Insight> {
    let status: String = r.try_get("status")?;
    let body: String = r.try_get("body")?;
    Ok(Insight {
        id: r.try_get("id")?,
        key: r.try_get("key")?,
        insight_type: r.try_get("insight_type")?,
        kind: r.try_get("kind")?,
        priority: r.try_get("priority")?,
        impact: r.try_get("impact")?,
        reach: r.try_get("reach")?,
        status: InsightStatus::parse(&status)
            .ok_or_else(|| StoreError::Internal(format!("unknown insight status {status}")))?,
        rating: r.try_get("rating")?,
        body: serde_json::from_str(&body).map_err(|e| StoreError::Internal(format!("insight body: {e}")))?,
        first_detected_at: r.try_get("first_detected_at")?,
        last_detected_at: r.try_get("last_detected_at")?,
    })
}

pub(super) async fn upsert(pool: &SqlitePool, scope: ProjectScope, new: NewInsight) -> Result<(Insight, bool)> {
    let mut tx = pool.begin().await?;
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM insights WHERE tenant_id = ? AND project_id = ? AND key = ?")
            .bind(scope.tenant_id.0)
            .bind(scope.project_id.0)
            .bind(&new.key)
            .fetch_optional(&mut *tx)
            .await?;
    let body = new.body.to_string();
    let id =
        match existing {
            Some(id) => {
                // The first detection time is kept in the body the engine sent
                // the first time; only the figures move.
                sqlx::query(
                    "UPDATE insights SET insight_type = ?, kind = ?, priority = ?, impact = ?, reach = ?, body = ?,
                 last_detected_at = max(last_detected_at, ?) WHERE id = ? AND tenant_id = ? AND project_id = ?",
                )
                .bind(&new.insight_type)
                .bind(&new.kind)
                .bind(&new.priority)
                .bind(new.impact)
                .bind(new.reach)
                .bind(&body)
                .bind(new.detected_at)
                .bind(id)
                .bind(scope.tenant_id.0)
                .bind(scope.project_id.0)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO insights (tenant_id, project_id, key, insight_type, kind, priority, impact, reach, body,
                 first_detected_at, last_detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(scope.tenant_id.0)
            .bind(scope.project_id.0)
            .bind(&new.key)
            .bind(&new.insight_type)
            .bind(&new.kind)
            .bind(&new.priority)
            .bind(new.impact)
            .bind(new.reach)
            .bind(&body)
            .bind(new.detected_at)
            .bind(new.detected_at)
            .fetch_one(&mut *tx)
            .await?,
        };
    tx.commit().await?;
    let insight = get(pool, scope, id).await?.ok_or_else(|| StoreError::Internal("insight vanished".into()))?;
    Ok((insight, existing.is_none()))
}

pub(super) async fn list(pool: &SqlitePool, scope: ProjectScope, f: &InsightFilter) -> Result<(Vec<Insight>, i64)> {
    let filters = [
        ("status", f.status.map(|s| s.as_str().to_string())),
        ("insight_type", f.insight_type.clone()),
        ("kind", f.kind.clone()),
        ("priority", f.priority.clone()),
    ];
    let mut conditions = String::from("tenant_id = ? AND project_id = ?");
    let mut binds = Vec::new();
    for (column, value) in filters {
        if let Some(v) = value {
            conditions.push_str(&format!(" AND {column} = ?"));
            binds.push(v);
        }
    }
    let count_sql = format!("SELECT count(*) FROM insights WHERE {conditions}");
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(scope.tenant_id.0).bind(scope.project_id.0);
    for b in &binds {
        count = count.bind(b);
    }
    let total = count.fetch_one(pool).await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM insights WHERE {conditions} ORDER BY impact DESC, reach DESC, id DESC LIMIT ? OFFSET ?"
    );
    let mut q = sqlx::query(&sql).bind(scope.tenant_id.0).bind(scope.project_id.0);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.bind(f.limit).bind(f.offset).fetch_all(pool).await?;
    Ok((rows.iter().map(from_row).collect::<Result<_>>()?, total))
}

pub(super) async fn get(pool: &SqlitePool, scope: ProjectScope, id: i64) -> Result<Option<Insight>> {
    let sql = format!("SELECT {COLUMNS} FROM insights WHERE id = ? AND tenant_id = ? AND project_id = ?");
    let row = sqlx::query(&sql).bind(id).bind(scope.tenant_id.0).bind(scope.project_id.0).fetch_optional(pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn update(pool: &SqlitePool, scope: ProjectScope, id: i64, u: InsightUpdate) -> Result<Insight> {
    if let Some(r) = u.rating
        && !(1..=5).contains(&r)
    {
        return Err(StoreError::Invalid(format!("rating: {r} is not between 1 and 5")));
    }
    let done = sqlx::query(
        "UPDATE insights SET status = coalesce(?, status), rating = coalesce(?, rating)
         WHERE id = ? AND tenant_id = ? AND project_id = ?",
    )
    .bind(u.status.map(|s| s.as_str()))
    .bind(u.rating)
    .bind(id)
    .bind(scope.tenant_id.0)
    .bind(scope.project_id.0)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("insight {id}")));
    }
    get(pool, scope, id).await?.ok_or_else(|| StoreError::NotFound(format!("insight {id}")))
}
