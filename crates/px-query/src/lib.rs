//! The analytics query engine: typed queries (trend, funnel, retention,
//! paths, stickiness, lifecycle, people, sessions) compiled to SQL per
//! dialect, and a reference implementation over in-memory events (the
//! oracle) that every dialect must agree with.
