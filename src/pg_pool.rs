//! How many Postgres connections each process type may hold: one setting per type
//! (`ORGPOOL_WEB_PG_POOL`, `ORGPOOL_SCHEDULER_PG_POOL`, `ORGPOOL_WORKER_PG_POOL`), with
//! defaults derived from what the process does at once, and the total a formation of
//! them holds, which `orgpool dev` compares with the server's `max_connections`.
//!
//! The formula (docs/deploy.md): a worker runs `WORKER_CONCURRENCY` chunks per job
//! kind, and a chunk holds a connection only while it talks to Postgres (most of its
//! time goes to Salesforce), so it needs about one connection per slot of its busiest
//! kind plus two for the runner's bookkeeping: concurrency + 2. The web process serves
//! a few pages and scrapes at once (4); the scheduler holds its write-back listener and
//! runs one pass at a time (3). A pool never opens more than it needs: these are
//! ceilings, so a formation's worst case is the sum of them.

use std::ops::RangeInclusive;

use crate::settings::{SettingsError, Vars};

/// The web process's default pool.
pub const WEB_DEFAULT: u32 = 4;
/// The scheduler's default pool: its listener's connection, a pass, one to spare.
pub const SCHEDULER_DEFAULT: u32 = 3;
/// Connections a worker holds beyond one per concurrency slot.
pub const WORKER_EXTRA: u32 = 2;
/// A one-off command's pool (`status`, `enqueue`, `jobs`, ...).
pub const COMMAND: u32 = 2;
/// What a pool setting accepts. Two at least: the scheduler's listener keeps one for
/// itself, and a chunk's transaction may need a second one for bookkeeping.
pub const RANGE: RangeInclusive<u64> = 2..=1000;

/// A long-running process type of the Procfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Process {
    /// `orgpool web`.
    Web,
    /// `orgpool scheduler`.
    Scheduler,
    /// `orgpool worker`.
    Worker,
}

impl Process {
    /// The process type a Procfile command runs (`orgpool worker --concurrency 4` is a
    /// worker), whatever the type is called; `None` for anything else.
    pub fn of_command(command: &str) -> Option<Process> {
        let mut words = command.split_whitespace();
        words.find(|w| *w == "orgpool" || w.ends_with("/orgpool"))?;
        match words.next()? {
            "web" => Some(Process::Web),
            "scheduler" => Some(Process::Scheduler),
            "worker" => Some(Process::Worker),
            _ => None,
        }
    }

    /// The setting that sizes its pool.
    pub fn setting(self) -> &'static str {
        match self {
            Process::Web => "ORGPOOL_WEB_PG_POOL",
            Process::Scheduler => "ORGPOOL_SCHEDULER_PG_POOL",
            Process::Worker => "ORGPOOL_WORKER_PG_POOL",
        }
    }

    /// Its name in logs and in `orgpool dev`'s total.
    pub fn name(self) -> &'static str {
        match self {
            Process::Web => "web",
            Process::Scheduler => "scheduler",
            Process::Worker => "worker",
        }
    }

    /// The pool it gets without the setting; `concurrency` matters to workers only.
    pub fn default_size(self, concurrency: usize) -> u32 {
        match self {
            Process::Web => WEB_DEFAULT,
            Process::Scheduler => SCHEDULER_DEFAULT,
            Process::Worker => (concurrency as u32).saturating_add(WORKER_EXTRA),
        }
    }
}

/// A process's pool size and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize {
    /// Connections at most.
    pub size: u32,
    /// Whether the setting chose it (else the default formula did).
    pub from_setting: bool,
}

impl PoolSize {
    /// How it was chosen, for the start-up log line.
    pub fn source(self, process: Process) -> String {
        if self.from_setting {
            process.setting().to_string()
        } else if process == Process::Worker {
            format!("default: concurrency + {WORKER_EXTRA}")
        } else {
            "default".to_string()
        }
    }
}

/// The pool of `process` from `vars`; `concurrency` is the worker's chunks per job kind.
pub fn size(process: Process, vars: &Vars, concurrency: usize) -> Result<PoolSize, SettingsError> {
    Ok(match vars.whole(process.setting(), RANGE)? {
        Some(n) => PoolSize {
            size: n as u32,
            from_setting: true,
        },
        None => PoolSize {
            size: process.default_size(concurrency),
            from_setting: false,
        },
    })
}

/// Logs the pool a long-running process starts with, so an operator adding up the
/// fleet's connections can read each process's share from its first lines.
pub fn log_start(process: Process, pool: PoolSize) {
    tracing::info!(
        process = process.name(),
        pg_pool = pool.size,
        chosen_by = %pool.source(process),
        "Postgres pool: at most {} connections",
        pool.size
    );
}

/// The worker concurrency a Procfile command sets with `--concurrency N`, if it does.
pub fn concurrency_flag(command: &str) -> Option<usize> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let value = match w.strip_prefix("--concurrency") {
            Some("") => words.get(i + 1).copied(),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        value.and_then(|v| v.parse().ok())
    })
}

/// What a formation holds at most: per process type, its count and pool size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Formation {
    /// (type name, count, pool size), in the order added.
    pub types: Vec<(String, usize, u32)>,
}

impl Formation {
    /// Adds `count` processes of the type `name`, each with a pool of `size`.
    pub fn add(&mut self, name: &str, count: usize, size: u32) {
        self.types.push((name.to_string(), count, size));
    }

    /// Connections the whole formation may hold.
    pub fn total(&self) -> u64 {
        self.types
            .iter()
            .map(|(_, count, size)| *count as u64 * u64::from(*size))
            .sum()
    }

    /// `web 1×4 + scheduler 1×3 + worker 3×4`.
    pub fn breakdown(&self) -> String {
        self.types
            .iter()
            .filter(|(_, count, _)| *count > 0)
            .map(|(name, count, size)| format!("{name} {count}×{size}"))
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{DefaultText, find, pairs};

    fn vars(list: &[(&str, &str)]) -> Vars {
        Vars::new(pairs(list))
    }

    #[test]
    fn defaults_follow_the_formula_and_the_catalogue() {
        let none = vars(&[]);
        assert_eq!(size(Process::Worker, &none, 2).unwrap().size, 4);
        assert_eq!(size(Process::Worker, &none, 8).unwrap().size, 10);
        assert_eq!(size(Process::Web, &none, 8).unwrap().size, WEB_DEFAULT);
        assert_eq!(
            size(Process::Scheduler, &none, 8).unwrap().size,
            SCHEDULER_DEFAULT
        );
        for (p, want) in [
            (Process::Web, WEB_DEFAULT),
            (Process::Scheduler, SCHEDULER_DEFAULT),
        ] {
            let s = find(p.setting()).expect("in the catalogue");
            assert!(
                matches!(s.default, DefaultText::Value(v) if v == want.to_string()),
                "{}: {:?}",
                p.setting(),
                s.default
            );
        }
        assert!(find(Process::Worker.setting()).is_some());
    }

    #[test]
    fn the_setting_wins_and_is_range_checked() {
        let v = vars(&[("ORGPOOL_WORKER_PG_POOL", "7")]);
        let s = size(Process::Worker, &v, 2).unwrap();
        assert_eq!(
            s,
            PoolSize {
                size: 7,
                from_setting: true
            }
        );
        assert_eq!(s.source(Process::Worker), "ORGPOOL_WORKER_PG_POOL");
        let e = size(Process::Web, &vars(&[("ORGPOOL_WEB_PG_POOL", "1")]), 2).unwrap_err();
        assert!(e.to_string().contains("from 2 to 1000"), "{e}");
    }

    #[test]
    fn procfile_commands_name_their_process_and_concurrency() {
        assert_eq!(Process::of_command("orgpool web"), Some(Process::Web));
        assert_eq!(
            Process::of_command("./target/release/orgpool worker --concurrency 4"),
            Some(Process::Worker)
        );
        assert_eq!(Process::of_command("orgpool migrate"), None);
        assert_eq!(Process::of_command("sleep 5"), None);
        assert_eq!(concurrency_flag("orgpool worker --concurrency 4"), Some(4));
        assert_eq!(concurrency_flag("orgpool worker --concurrency=6"), Some(6));
        assert_eq!(concurrency_flag("orgpool worker"), None);
    }

    #[test]
    fn a_formation_sums_its_ceilings() {
        let mut f = Formation::default();
        f.add("web", 1, 4);
        f.add("scheduler", 1, 3);
        f.add("worker", 3, 4);
        assert_eq!(f.total(), 19);
        assert_eq!(f.breakdown(), "web 1×4 + scheduler 1×3 + worker 3×4");
    }
}
