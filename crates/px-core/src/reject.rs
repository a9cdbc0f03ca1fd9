//! Why an event was rejected: a machine-readable code, the field at fault and
//! a human message that quotes the limit. Returned per event in a batch
//! response, so a client keeps every good event of a mixed batch.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    Malformed,
    MissingField,
    InvalidField,
    TooLarge,
    TooLong,
    TooMany,
    TooDeep,
}

impl RejectCode {
    /// Every code, for pre-registering metric series.
    pub const ALL: [RejectCode; 7] = [
        Self::Malformed,
        Self::MissingField,
        Self::InvalidField,
        Self::TooLarge,
        Self::TooLong,
        Self::TooMany,
        Self::TooDeep,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::MissingField => "missing_field",
            Self::InvalidField => "invalid_field",
            Self::TooLarge => "too_large",
            Self::TooLong => "too_long",
            Self::TooMany => "too_many",
            Self::TooDeep => "too_deep",
        }
    }
}

/// One rejected event: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub code: RejectCode,
    pub field: String,
    pub message: String,
}

impl Reject {
    pub fn new(code: RejectCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code, field: field.into(), message: message.into() }
    }
}
