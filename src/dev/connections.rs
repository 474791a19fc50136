//! `orgpool dev`'s count of the Postgres connections its formation may hold: each
//! Procfile type that runs `orgpool web|scheduler|worker`, times its count, times the
//! pool that process will size for itself from the same environment
//! ([`crate::pg_pool`]). The total is printed at start and compared with the server's
//! `max_connections`, so a formation that would run a shared or small server out of
//! connections is named before it does.

use std::collections::BTreeMap;

use crate::pg_pool::{self, Formation, Process};
use crate::queue::QueueConfig;
use crate::settings::Vars;

use super::procfile::{Procfile, RELEASE};

/// What the formation holds at most, or why it could not be sized.
pub fn formation(
    procfile: &Procfile,
    counts: &BTreeMap<String, usize>,
    vars: &Vars,
) -> Result<Formation, crate::settings::SettingsError> {
    let mut f = Formation::default();
    for t in procfile.types.iter().filter(|t| t.name != RELEASE) {
        let Some(process) = Process::of_command(&t.command) else {
            continue;
        };
        let count = counts.get(&t.name).copied().unwrap_or(0);
        let concurrency = match pg_pool::concurrency_flag(&t.command) {
            Some(n) => n,
            None => QueueConfig::from_vars(vars.clone())?.concurrency,
        };
        let size = pg_pool::size(process, vars, concurrency)?;
        f.add(&t.name, count, size.size);
    }
    Ok(f)
}

/// The children's environment as they will see it: this process's, then `env` on top.
pub fn child_vars(env: &[(String, String)]) -> Vars {
    let mut all: Vec<(String, String)> = Vars::from_env().into_iter().collect();
    all.extend(env.iter().cloned());
    Vars::new(all)
}

/// Prints the formation's total (plus `own`, the connections `orgpool dev` itself
/// holds) and warns on stderr when it exceeds the server's `max_connections`.
pub async fn report(
    procfile: &Procfile,
    counts: &BTreeMap<String, usize>,
    env: &[(String, String)],
    own: u32,
) {
    let vars = child_vars(env);
    let f = match formation(procfile, counts, &vars) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("orgpool dev: cannot size the Postgres pools: {e}");
            return;
        }
    };
    let total = f.total() + u64::from(own);
    let own_text = if own > 0 {
        format!(" + orgpool dev {own}")
    } else {
        String::new()
    };
    println!(
        "orgpool dev: the formation may hold up to {total} Postgres connections ({}{own_text}); each one-off command adds {}",
        f.breakdown(),
        pg_pool::COMMAND
    );
    let url = vars
        .text("DATABASE_URL")
        .unwrap_or_else(|| crate::app::DEFAULT_DATABASE_URL.into());
    match crate::pg_conn::max_connections(&url).await {
        Ok(max) if total > u64::from(max) => eprintln!(
            "orgpool dev: warning: {total} connections exceed the server's max_connections ({max}); \
             processes will fail to connect once it is full. Scale down, lower WORKER_CONCURRENCY \
             or the ORGPOOL_*_PG_POOL settings (docs/deploy.md), or raise max_connections"
        ),
        Ok(max) => println!("orgpool dev: the server allows {max} (max_connections)"),
        Err(e) => eprintln!("orgpool dev: cannot read the server's max_connections: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::pairs;

    const TEXT: &str = "release: orgpool migrate\nweb: orgpool web\nscheduler: orgpool scheduler\nworker: orgpool worker\nfast: orgpool worker --concurrency 6\nclock: sleep 1\n";

    #[test]
    fn each_orgpool_type_counts_its_pool_times_its_count() {
        let p = Procfile::parse("Procfile", TEXT).unwrap();
        let counts = p.counts(&["worker=3,fast=1".into()]).unwrap();
        let f = formation(&p, &counts, &Vars::new(pairs(&[]))).unwrap();
        // web 4, scheduler 3, three workers at 2 + 2, one at 6 + 2.
        assert_eq!(f.total(), 4 + 3 + 3 * 4 + 8);
        let v = Vars::new(pairs(&[
            ("WORKER_CONCURRENCY", "4"),
            ("ORGPOOL_WEB_PG_POOL", "2"),
        ]));
        let f = formation(&p, &counts, &v).unwrap();
        assert_eq!(f.total(), 2 + 3 + 3 * 6 + 8);
        let v = Vars::new(pairs(&[("ORGPOOL_WORKER_PG_POOL", "oops")]));
        assert!(formation(&p, &counts, &v).is_err());
    }
}
