//! Row counts for the operations metrics (`GET /metrics`).

use super::{StatsError, Store};

type Result<T, E = StatsError> = std::result::Result<T, E>;

/// Escalations by status (`open`, `answered`, `closed`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscalationCounts {
    /// Waiting for a department's answer.
    pub open: u64,
    /// Answered, not yet closed.
    pub answered: u64,
    /// Closed.
    pub closed: u64,
}

impl Store {
    /// Counts the escalations by status.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn escalation_counts(&self) -> Result<EscalationCounts> {
        self.read(|c| {
            let mut out = EscalationCounts::default();
            let mut st =
                c.prepare_cached("SELECT status, COUNT(*) FROM escalations GROUP BY status")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (s, n) = row?;
                let n = u64::try_from(n).unwrap_or(0);
                match s.as_str() {
                    "open" => out.open = n,
                    "answered" => out.answered = n,
                    "closed" => out.closed = n,
                    _ => {}
                }
            }
            Ok(out)
        })
    }
}
