//! The C API reader against real DuckDB databases in temporary directories.

use super::answer::all_valid;
use super::*;
use ::arrow::array::{Array, AsArray};
use ::arrow::compute::concat_batches;
use ::arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int32Type, Int64Type};

fn open() -> (tempfile::TempDir, Arc<Database>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Database::open(&dir.path().join("t.duckdb"), &[("autoload_known_extensions", "false")])
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, db)
}

fn run(db: &Arc<Database>, sql: &str, params: &[SqlParam]) -> Result<Vec<RecordBatch>> {
    db.connect_raw()?.query_arrow(sql, params)
}

/// duckdb-rs's own answer, the reference.
fn reference(db: &Arc<Database>, sql: &str) -> RecordBatch {
    let conn = db.connect().unwrap_or_else(|e| panic!("{e}"));
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}"));
    let batches: Vec<RecordBatch> = stmt.query_arrow([]).unwrap_or_else(|e| panic!("{e}")).collect();
    let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| panic!("no rows"));
    concat_batches(&schema, &batches).unwrap_or_else(|e| panic!("{e}"))
}

/// The whole answer of a statement that must succeed, as one batch.
fn answer(db: &Arc<Database>, sql: &str, params: &[SqlParam]) -> RecordBatch {
    one(&run(db, sql, params).unwrap_or_else(|e| panic!("{sql}: {e}")))
}

fn one(batches: &[RecordBatch]) -> RecordBatch {
    let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| panic!("no batches"));
    concat_batches(&schema, batches).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_supported_type_reads_as_duckdb_rs_reads_it() {
    let (_dir, db) = open();
    let sql = "SELECT i::TINYINT AS a, i::SMALLINT AS b, i::INTEGER AS c, i::BIGINT AS d, i::UTINYINT AS e,
            i::USMALLINT AS f, i::UINTEGER AS g, i::UBIGINT AS h, (i / 3)::FLOAT AS fl, i / 7 AS db,
            i % 3 = 0 AS bo, CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS n,
            repeat('x', i % 20) || i AS s, CASE WHEN i % 4 = 0 THEN NULL ELSE 'ok' END AS sn,
            (i * 1.25)::DECIMAL(9, 2) AS d9, (i * 1.25)::DECIMAL(18, 3) AS d18,
            (i * 1.25)::DECIMAL(30, 4) AS d30, (i * 1.5)::DECIMAL(4, 1) AS d4,
            make_timestamp(i * 1000000) AS ts, make_timestamp(i * 1000000)::DATE AS dt
        FROM range(100) t(i)";
    let mine = answer(&db, sql, &[]);
    let theirs = reference(&db, sql);
    assert_eq!(mine.num_rows(), 100);
    for (f, col) in theirs.schema().fields().iter().zip(theirs.columns()) {
        let got = mine.column_by_name(f.name()).unwrap_or_else(|| panic!("no column {}", f.name()));
        let want = ::arrow::compute::cast(col, got.data_type()).unwrap_or_else(|e| panic!("{}: {e}", f.name()));
        assert_eq!(got.as_ref(), want.as_ref(), "column {}", f.name());
    }
    assert_eq!(mine.column_by_name("n").map(|c| c.null_count()), Some(20));
    assert_eq!(mine.column_by_name("sn").map(|c| c.null_count()), Some(25));
}

#[test]
fn uuids_hugeints_and_null_columns() {
    let (_dir, db) = open();
    let ids = [
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "7f3e1c2a-9b4d-4e8f-a1b2-c3d4e5f60718",
    ];
    let sql = format!(
        "SELECT u::UUID AS u, sum('1000000000000000000000000000000'::HUGEINT) OVER () AS big, NULL AS nothing FROM (VALUES ('{}'), ('{}'), ('{}'), (NULL)) t(u)",
        ids[0], ids[1], ids[2]
    );
    let b = answer(&db, &sql, &[]);
    let u = b.column(0).as_string::<i32>();
    assert_eq!((0..3).map(|i| u.value(i)).collect::<Vec<_>>(), ids);
    assert!(u.is_null(3));
    let big = b.column(1).as_primitive::<Decimal128Type>();
    assert_eq!(big.value(0), 4 * 10i128.pow(30));
    assert_eq!(b.column(2).data_type(), &DataType::Null);
    assert_eq!(b.column(2).len(), 4);
}

#[test]
fn validity_masks_are_read_to_their_length() {
    assert!(all_valid(&[], 0));
    assert!(all_valid(&[u64::MAX], 64));
    assert!(!all_valid(&[u64::MAX - 1], 64));
    // Bits past the vector's length do not count.
    assert!(all_valid(&[u64::MAX, 0b11_1111], 70));
    assert!(!all_valid(&[u64::MAX, 0b01_1111], 70));
    assert!(all_valid(&[0b111], 3));
    assert!(!all_valid(&[u64::MAX >> 1], 64));
}

#[test]
fn large_answers_keep_their_order_across_batches_and_threads() {
    let (_dir, db) = open();
    let n = 3_000_000i64;
    let batches = run(&db, "SELECT i, i::VARCHAR AS s FROM range(?) t(i) ORDER BY i", &[SqlParam::Int(n)])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(batches.len() > 2, "{} batches", batches.len());
    let mut next = 0i64;
    for b in &batches {
        let (i, s) = (b.column(0).as_primitive::<Int64Type>(), b.column(1).as_string::<i32>());
        for r in 0..b.num_rows() {
            assert_eq!(i.value(r), next);
            assert_eq!(s.value(r), next.to_string());
            next += 1;
        }
    }
    assert_eq!(next, n);
}

#[test]
fn parameters_bind_by_type_and_text_is_never_sql() {
    let (_dir, db) = open();
    let evil = "x'); DROP TABLE t; --";
    let b = answer(
        &db,
        "SELECT ? + 1 AS i, ? * 2 AS f, ? AS t, NOT ? AS b",
        &[SqlParam::Int(41), SqlParam::Float(1.25), SqlParam::Text(evil.into()), SqlParam::Bool(false)],
    );
    assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), 42);
    assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), 2.5);
    assert_eq!(b.column(2).as_string::<i32>().value(0), evil);
    assert!(b.column(3).as_boolean().value(0));
}

#[test]
fn text_values_stay_values_whatever_they_hold() {
    let (_dir, db) = open();
    let nasty = [
        "it's",
        "'; DROP TABLE t; --",
        "?",
        "a ? b '?' \"?\"",
        "back\\slash\\'",
        "/* not a comment */ -- nor this",
        "ünïcødé ✓ 🚀",
        "'' ''' ''''",
        "",
    ];
    // `?`s in quotes and comments are not parameters.
    let sql = "SELECT ? AS v, '?' AS q, \"?\".x AS n /* ? */ FROM (SELECT 1 AS x) \"?\" -- ?\n WHERE ? = ?";
    for s in nasty {
        let params = [SqlParam::Text(s.into()), SqlParam::Int(-7), SqlParam::Int(-7)];
        let b = answer(&db, sql, &params);
        assert_eq!(b.column(0).as_string::<i32>().value(0), s);
        assert_eq!(b.column(1).as_string::<i32>().value(0), "?");
    }
    let b = answer(
        &db,
        "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, 5-? AS f",
        &[
            SqlParam::Int(i64::MIN),
            SqlParam::Float(f64::INFINITY),
            SqlParam::Float(f64::NAN),
            SqlParam::Float(-0.1),
            SqlParam::Float(1e300),
            SqlParam::Int(-1),
        ],
    );
    assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), i64::MIN);
    assert_eq!(b.column(1).as_primitive::<Float64Type>().value(0), f64::INFINITY);
    assert!(b.column(2).as_primitive::<Float64Type>().value(0).is_nan());
    assert_eq!(b.column(3).as_primitive::<Float64Type>().value(0), -0.1);
    assert_eq!(b.column(4).as_primitive::<Float64Type>().value(0), 1e300);
    assert_eq!(b.column(5).as_primitive::<Int64Type>().value(0), 6);
    // Every string of three characters from those that mean something to SQL.
    let specials = ['\'', '"', '?', '-', '/', '*', '\\', '\n', ';'];
    let mut conn = db.connect_raw().unwrap_or_else(|e| panic!("{e}"));
    for a in specials {
        for b in specials {
            for c in specials {
                let s: String = [a, b, c].iter().collect();
                let got = conn
                    .query_arrow("SELECT ? AS v, ? AS w", &[SqlParam::Text(s.clone()), SqlParam::Int(1)])
                    .unwrap_or_else(|e| panic!("{s:?}: {e}"));
                assert_eq!(one(&got).column(0).as_string::<i32>().value(0), s);
            }
        }
    }
    match run(&db, "SELECT ?", &[SqlParam::Text("nul\0byte".into())]) {
        Err(StoreError::Invalid(m)) => assert!(m.contains("NUL"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_what_went_wrong() {
    let (_dir, db) = open();
    let err = |sql: &str, params: &[SqlParam]| match run(&db, sql, params) {
        Ok(_) => panic!("{sql} ran"),
        Err(e) => e.to_string(),
    };
    assert!(err("SELEC 1", &[]).contains("syntax error"), "{}", err("SELEC 1", &[]));
    assert!(err("SELECT ?", &[]).contains("takes more than 0 parameters"));
    assert!(err("SELECT ?", &[SqlParam::Int(1), SqlParam::Int(2)]).contains("takes 1 parameters, 2 were given"));
    assert!(err("SELECT 1; SELECT 2", &[]).contains("one statement expected, not 2"));
    assert!(err("SELECT * FROM nowhere", &[]).contains("nowhere"));
    let regex = err("SELECT regexp_matches('a', '(')", &[]);
    assert!(regex.contains("missing )"), "{regex}");
    assert!(err("SELECT INTERVAL 1 DAY AS gap", &[]).contains("column gap has DuckDB type"));
    assert!(run(&db, "SELECT 1 WHERE false", &[]).unwrap_or_else(|e| panic!("{e}")).is_empty());
    let b = answer(&db, "SELECT 7::INTEGER AS x", &[]);
    assert_eq!(b.column(0).as_primitive::<Int32Type>().value(0), 7);
}

#[test]
fn an_interrupted_statement_fails_at_once() {
    let (_dir, db) = open();
    let mut conn = db.connect_raw().unwrap_or_else(|e| panic!("{e}"));
    let handle = conn.interrupt_handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        let _ = tx.send(());
        conn.query_arrow("SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3", &[])
    });
    rx.recv().unwrap_or_else(|e| panic!("{e}"));
    // Interrupting before the statement starts would be lost: keep
    // interrupting until it has failed.
    while !runner.is_finished() {
        handle.interrupt();
        std::thread::yield_now();
    }
    let res = runner.join().unwrap_or_else(|_| panic!("panicked"));
    assert!(res.as_ref().is_err_and(|e| e.to_string().contains("nterrupt")), "{res:?}");
}

#[test]
fn the_database_stays_open_while_a_connection_lives() {
    let (dir, db) = open();
    let conn = db.connect().unwrap_or_else(|e| panic!("{e}"));
    let mut raw = db.connect_raw().unwrap_or_else(|e| panic!("{e}"));
    drop(db);
    conn.execute_batch("CREATE TABLE t AS SELECT 1 AS x").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(raw.query_arrow("SELECT x FROM t", &[]).map(|b| b.len()).ok(), Some(1));
    drop((conn, raw));
    // Closed with the last connection: it opens again, with the table.
    let again = Database::open(&dir.path().join("t.duckdb"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run(&again, "SELECT x FROM t", &[]).map(|b| b.len()).ok(), Some(1));
}
