//! The one list of run kinds. Each entry names a kind (its stable snake_case name, as
//! stored on runs and typed by users), the queue whose workers run its chunks, its
//! lane rule, its attempts, its default arguments and how to check them, and the
//! runner. The worker, `enqueue`, the web API, `status` and the scheduler all read
//! this list; adding a kind is one module and one line here (docs/mirror.md, "Adding a
//! job kind").

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::change_events::ChangeEvents;
use super::context::JobContext;
use super::initial_load::{InitialLoad, LoadArgs};
use super::kind::JobKind;
use super::quote_generation::QuoteGeneration;
use super::reconcile::Reconcile;
use super::resync::Resync;
use super::runner::Runner;
use super::settings::JobSettings;
use super::write_back::WriteBack;
use crate::queue::ChunkRunner;

/// Which runs exclude each other: at most one active run per lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// One active mirror run per object (a load, resync, reload or reconcile).
    Object,
    /// One active run of this name at a time, whatever the object.
    Named(&'static str),
    /// One active run per object under this prefix (`write_back:<schema>`).
    Prefixed(&'static str),
}

/// One run kind.
#[derive(Debug)]
pub struct Kind {
    /// Stable snake_case name (runs' `kind`; the CLI word with `-` for `_`).
    pub name: &'static str,
    /// The queue (job kind) whose workers run its chunks.
    pub queue: &'static str,
    /// One line for `--help`, the API's error and the docs.
    pub about: &'static str,
    /// Which runs it excludes.
    pub lane: Lane,
    /// Attempts a chunk gets for transient errors; None: `ORGPOOL_MAX_ATTEMPTS`.
    pub max_attempts: Option<i32>,
    /// Whether it runs per mapped object (started by `enqueue KIND OBJECT|--all`).
    pub per_object: bool,
    /// The mapping's schedule clock that starting one resets (`resync`, `reconcile`):
    /// the scheduler starts the next one an interval later.
    pub clock: Option<&'static str>,
    /// The arguments a plain start gets.
    pub default_args: fn() -> serde_json::Value,
    /// Checks encoded arguments against the kind's type.
    pub check_args: fn(&serde_json::Value) -> Result<(), String>,
    /// The runner of its queue, given the attempts its chunks get.
    pub runner: fn(JobContext, i32) -> Arc<dyn ChunkRunner>,
}

impl Kind {
    /// The lane of a run of this kind on `object`.
    pub fn lane_of(&self, object: &str) -> String {
        match self.lane {
            Lane::Object => format!("mirror:{}", object.to_ascii_lowercase()),
            Lane::Named(n) => n.to_string(),
            Lane::Prefixed(p) => format!("{p}:{object}"),
        }
    }
}

const fn kind<K: JobKind>(
    name: &'static str,
    about: &'static str,
    lane: Lane,
    per_object: bool,
    default_args: fn() -> serde_json::Value,
) -> Kind {
    Kind {
        name,
        queue: K::QUEUE,
        about,
        lane,
        max_attempts: None,
        per_object,
        clock: None,
        default_args,
        check_args: check::<K::Args>,
        runner: Runner::<K>::boxed,
    }
}

fn check<A: DeserializeOwned>(v: &serde_json::Value) -> Result<(), String> {
    serde_json::from_value::<A>(v.clone())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn empty() -> serde_json::Value {
    serde_json::json!({})
}

fn encoded<T: Serialize>(v: T) -> serde_json::Value {
    crate::ledger::encode(&v)
}

/// Copy a mapped object into its table.
pub static INITIAL_LOAD: Kind = kind::<InitialLoad>(
    "initial_load",
    "copy a mapped object into its table",
    Lane::Object,
    true,
    empty,
);
/// Load an object into a shadow table, then swap it in.
pub static RELOAD: Kind = kind::<InitialLoad>(
    "reload",
    "load an object into a shadow table beside its table, then swap them",
    Lane::Object,
    true,
    || encoded(LoadArgs::shadow()),
);
/// Bring a table up to date since its watermark.
pub static RESYNC: Kind = Kind {
    clock: Some("resync"),
    ..kind::<Resync>(
        "resync",
        "bring a table up to date with the changes since its watermark",
        Lane::Object,
        true,
        empty,
    )
};
/// Compare counts per Id range and re-load ranges that differ.
pub static RECONCILE: Kind = Kind {
    clock: Some("reconcile"),
    ..kind::<Reconcile>(
        "reconcile",
        "compare counts per Id range and re-load the ranges that differ",
        Lane::Object,
        true,
        empty,
    )
};
/// Price selected Opportunities and push Quotes.
pub static QUOTE_GENERATION: Kind = kind::<QuoteGeneration>(
    "quote_generation",
    "price selected Opportunities and push Quotes (enqueue quotes)",
    Lane::Named("quotes"),
    false,
    empty,
);

/// Send the app's changes to read_write tables to Salesforce (started by the
/// scheduler's write-back listener; the object is the mirror schema).
pub static WRITE_BACK: Kind = kind::<WriteBack>(
    "write_back",
    "send the app's changes to a schema's read_write tables to Salesforce (started on capture)",
    Lane::Prefixed("write_back"),
    false,
    empty,
);

/// Apply an object's Change Data Capture events to its table (started by the
/// scheduler's event subscriber).
pub static CHANGE_EVENTS: Kind = kind::<ChangeEvents>(
    "change_events",
    "apply an object's change events to its table (started as events arrive)",
    Lane::Prefixed("change_events"),
    false,
    empty,
);

/// Every run kind.
pub static KINDS: [&Kind; 7] = [
    &INITIAL_LOAD,
    &RELOAD,
    &RESYNC,
    &RECONCILE,
    &QUOTE_GENERATION,
    &WRITE_BACK,
    &CHANGE_EVENTS,
];

/// A kind by its stable name; `-` may stand for `_`, and `quotes` for
/// `quote_generation`.
pub fn find(name: &str) -> Option<&'static Kind> {
    let name = name.trim().to_ascii_lowercase().replace('-', "_");
    let name = if name == "quotes" {
        "quote_generation"
    } else {
        &name
    };
    KINDS.iter().copied().find(|k| k.name == name)
}

/// The names of every kind, for error messages.
pub fn names() -> String {
    KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// Every queue, once each, in registry order: what a worker serves.
pub fn queues() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for k in KINDS {
        if !out.contains(&k.queue) {
            out.push(k.queue);
        }
    }
    out
}

/// One runner per queue over `ctx`.
pub fn runners(ctx: &JobContext) -> Vec<(&'static str, Arc<dyn ChunkRunner>)> {
    queues()
        .into_iter()
        .map(|q| {
            let k = KINDS
                .iter()
                .find(|k| k.queue == q)
                .expect("queue of a kind");
            (q, (k.runner)(ctx.clone(), max_attempts(q, &ctx.settings)))
        })
        .collect()
}

/// Attempts a chunk of `queue` gets: the lowest a kind of that queue sets, else the
/// setting.
pub fn max_attempts(queue: &str, settings: &JobSettings) -> i32 {
    KINDS
        .iter()
        .filter(|k| k.queue == queue)
        .filter_map(|k| k.max_attempts)
        .min()
        .unwrap_or(settings.max_attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_found_with_their_aliases() {
        let mut seen = std::collections::HashSet::new();
        for k in KINDS {
            assert!(seen.insert(k.name), "{} twice", k.name);
            assert!(
                k.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                k.name
            );
            // A quote run needs its rules version; every other kind starts plain.
            assert_eq!(
                (k.check_args)(&(k.default_args)()).is_ok(),
                k.name != "quote_generation",
                "{}",
                k.name
            );
        }
        assert_eq!(find("initial-load").unwrap().name, "initial_load");
        assert_eq!(find("quotes").unwrap().name, "quote_generation");
        assert!(find("initial_lod").is_none());
        assert_eq!(find("reload").unwrap().queue, "initial_load");
    }

    #[test]
    fn a_worker_serves_each_queue_once() {
        assert_eq!(
            queues(),
            vec![
                "initial_load",
                "resync",
                "reconcile",
                "quote_generation",
                "write_back",
                "change_events"
            ]
        );
    }

    #[test]
    fn lanes_keep_one_mirror_run_per_object_and_one_quote_run() {
        assert_eq!(RESYNC.lane_of("Account"), "mirror:account");
        assert_eq!(RELOAD.lane_of("Account"), INITIAL_LOAD.lane_of("ACCOUNT"));
        assert_eq!(QUOTE_GENERATION.lane_of("Opportunity"), "quotes");
    }
}
