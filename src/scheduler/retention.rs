//! The scheduler's retention pass: every tick the leader deletes a bounded batch of
//! what is past its keep time (finished runs with their chunks, resolved record
//! failures, finished Redis tasks and stopped workers), so the ledger and Redis stay
//! bounded and a backlog is worked off over passes. The SQL and what is never pruned
//! are [`crate::ledger::retention`]'s; the Redis side is [`crate::queue::trim`]'s. The
//! settings ([`RetentionSettings`]) are checked when the scheduler starts and read
//! again each pass, like the trigger log's.

use std::time::Duration;

use super::SchedulerError;
use crate::app::Services;
use crate::jobs::registry::{self, CHANGE_EVENTS, WRITE_BACK};
use crate::ledger::retention::{self, RunRules};
use crate::queue::TaskBound;
use crate::settings::{SettingsError, Vars};

const DAY: Duration = Duration::from_secs(86_400);

/// How long things are kept, from the `ORGPOOL_RETAIN_*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSettings {
    /// `succeeded` and `cancelled` runs, in days (`ORGPOOL_RETAIN_RUNS_DAYS`, 30).
    pub runs_days: u64,
    /// `failed` and `succeeded_with_failures` runs (`ORGPOOL_RETAIN_FAILED_RUNS_DAYS`, 90).
    pub failed_runs_days: u64,
    /// Resolved record failures (`ORGPOOL_RETAIN_RESOLVED_FAILURES_DAYS`, 90).
    pub resolved_failures_days: u64,
    /// Finished tasks kept per queue and set (`ORGPOOL_RETAIN_TASKS`, 1000).
    pub tasks: u64,
    /// Age past which finished tasks go (`ORGPOOL_RETAIN_TASKS_AGE`, 24 h).
    pub tasks_age: Duration,
    /// Rows or tasks deleted per table and pass (`ORGPOOL_RETENTION_BATCH`, 1000).
    pub batch: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            runs_days: 30,
            failed_runs_days: 90,
            resolved_failures_days: 90,
            tasks: 1_000,
            tasks_age: DAY,
            batch: 1_000,
        }
    }
}

impl RetentionSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<RetentionSettings, SettingsError> {
        RetentionSettings::from_vars(Vars::from_env())
    }

    /// Reads `vars`; a malformed or out-of-range value is an error naming the variable.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<RetentionSettings, SettingsError> {
        let v = Vars::checked(vars)?;
        let d = RetentionSettings::default();
        let days = |name: &str, default: u64| -> Result<u64, SettingsError> {
            Ok(v.whole(name, 1..=3650)?.unwrap_or(default))
        };
        let tasks_age = match v.duration("ORGPOOL_RETAIN_TASKS_AGE")? {
            None => d.tasks_age,
            Some(a) if (Duration::from_secs(60)..=Duration::from_secs(720 * 3600)).contains(&a) => {
                a
            }
            Some(_) => {
                let raw = v.text("ORGPOOL_RETAIN_TASKS_AGE").unwrap_or_default();
                return Err(v.refuse(
                    "ORGPOOL_RETAIN_TASKS_AGE",
                    &raw,
                    "a duration from 1m to 720h",
                ));
            }
        };
        Ok(RetentionSettings {
            runs_days: days("ORGPOOL_RETAIN_RUNS_DAYS", d.runs_days)?,
            failed_runs_days: days("ORGPOOL_RETAIN_FAILED_RUNS_DAYS", d.failed_runs_days)?,
            resolved_failures_days: days(
                "ORGPOOL_RETAIN_RESOLVED_FAILURES_DAYS",
                d.resolved_failures_days,
            )?,
            tasks: v
                .whole("ORGPOOL_RETAIN_TASKS", 0..=1_000_000)?
                .unwrap_or(d.tasks),
            tasks_age,
            batch: v
                .whole("ORGPOOL_RETENTION_BATCH", 1..=100_000)?
                .unwrap_or(d.batch),
        })
    }

    /// The ledger's rules for runs: the kinds that start a run per burst of changes
    /// keep their succeeded runs a day (the log or the mirror is their record).
    pub fn run_rules(&self) -> RunRules {
        RunRules {
            finished: DAY * self.runs_days as u32,
            failed: DAY * self.failed_runs_days as u32,
            frequent_kinds: vec![WRITE_BACK.name.into(), CHANGE_EVENTS.name.into()],
            frequent: DAY.min(DAY * self.runs_days as u32),
        }
    }

    /// The Redis bound.
    pub fn task_bound(&self) -> TaskBound {
        TaskBound {
            keep: self.tasks as usize,
            max_age: self.tasks_age,
            batch: self.batch as usize,
        }
    }
}

/// What one pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Runs.
    pub runs: u64,
    /// Chunks.
    pub chunks: u64,
    /// Resolved record failures.
    pub failures: u64,
    /// Finished Redis tasks.
    pub tasks: u64,
    /// Stopped workers' Redis entries.
    pub workers: u64,
}

impl Pruned {
    /// Whether anything went.
    pub fn any(&self) -> bool {
        self.runs + self.chunks + self.failures + self.tasks + self.workers > 0
    }
}

/// One retention pass with `settings`; logs one line when something was pruned.
pub async fn pass(s: &Services, settings: &RetentionSettings) -> Result<Pruned, SchedulerError> {
    let batch = i64::try_from(settings.batch).unwrap_or(i64::MAX);
    let runs = retention::prune_runs(&s.pool, &settings.run_rules(), batch).await?;
    let failures = retention::prune_resolved_failures(
        &s.pool,
        DAY * settings.resolved_failures_days as u32,
        batch,
    )
    .await?;
    let mut out = Pruned {
        runs: runs.runs,
        chunks: runs.chunks,
        failures,
        ..Pruned::default()
    };
    let bound = settings.task_bound();
    for kind in registry::queues() {
        let t = s.queues.trim_finished(kind, &bound).await?;
        out.tasks += t.tasks;
        out.workers += t.workers;
    }
    if out.any() {
        tracing::info!(
            runs = out.runs,
            chunks = out.chunks,
            record_failures = out.failures,
            redis_tasks = out.tasks,
            redis_workers = out.workers,
            "retention pass pruned"
        );
    }
    Ok(out)
}

/// The pass as the scheduler's tick calls it: settings read afresh (checked at start,
/// so an error here means the environment changed under us) and failures logged, not
/// returned, so the rest of the tick goes on and the next pass tries again.
pub async fn run(s: &Services) {
    let settings = match RetentionSettings::from_env() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "nothing pruned this pass");
            return;
        }
    };
    if let Err(e) = pass(s, &settings).await {
        tracing::warn!(error = %e, "retention pass failed; trying again next pass");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::pairs as vars;

    #[test]
    fn defaults_and_catalogue_agree() {
        assert_eq!(
            RetentionSettings::from_vars(vars(&[])).unwrap(),
            RetentionSettings::default()
        );
        let d = crate::settings::Section::Retention.defaults();
        assert_eq!(
            RetentionSettings::from_vars(d).unwrap(),
            RetentionSettings::default()
        );
    }

    #[test]
    fn values_are_read_and_bad_ones_name_the_variable() {
        let r = RetentionSettings::from_vars(vars(&[
            ("ORGPOOL_RETAIN_RUNS_DAYS", "7"),
            ("ORGPOOL_RETAIN_TASKS", "0"),
            ("ORGPOOL_RETAIN_TASKS_AGE", "2h"),
            ("ORGPOOL_RETENTION_BATCH", "50"),
        ]))
        .unwrap();
        assert_eq!(r.runs_days, 7);
        assert_eq!(r.tasks, 0);
        assert_eq!(r.tasks_age, Duration::from_secs(7200));
        assert_eq!(r.batch, 50);
        for (k, v) in [
            ("ORGPOOL_RETAIN_RUNS_DAYS", "0"),
            ("ORGPOOL_RETAIN_FAILED_RUNS_DAYS", "forever"),
            ("ORGPOOL_RETAIN_RESOLVED_FAILURES_DAYS", "4000"),
            ("ORGPOOL_RETAIN_TASKS", "-1"),
            ("ORGPOOL_RETAIN_TASKS_AGE", "10s"),
            ("ORGPOOL_RETAIN_TASKS_AGE", "soon"),
            ("ORGPOOL_RETENTION_BATCH", "0"),
        ] {
            let err = RetentionSettings::from_vars(vars(&[(k, v)])).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("{k} is invalid: {v:?}")),
                "{err}"
            );
        }
    }

    #[test]
    fn frequent_kinds_keep_a_day_and_never_longer_than_other_runs() {
        let rules = RetentionSettings::default().run_rules();
        assert_eq!(rules.frequent, DAY);
        assert_eq!(rules.finished, DAY * 30);
        assert_eq!(rules.failed, DAY * 90);
        assert!(rules.frequent_kinds.iter().any(|k| k == "change_events"));
        assert!(rules.frequent_kinds.iter().any(|k| k == "write_back"));
    }
}
