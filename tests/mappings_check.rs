//! `orgpool mappings check --file F` through the real binary against the fake org (in
//! process, with the example schema's custom objects): a good file exits 0 and starts
//! nothing; a file with a misspelled field, a relationship column through a lookup the
//! object does not have, an unknown object and an `upsert_field` that is not an External
//! ID exits 1 with every problem listed, each naming its mapping; a `read_write` mapping
//! without an upsert field is refused naming the fix.

mod jobs_common;

use jobs_common::{Env, example_schema_org};
use orgpool::fake_org::FakeOrgConfig;

fn org() -> FakeOrgConfig {
    example_schema_org(1)
}

const GOOD: &str = r#"
column_types = "heroku_connect"

[[mapping]]
object = "Invoice__c"
fields = ["Name", "Number__c", "Total__c", "Account__c"]
indexes = ["Number__c", "Account__c"]
upsert_field = "Number__c"
events = true

[[mapping]]
object = "Account"
fields = "all"
"#;

const BAD: &str = r#"
[[mapping]]
object = "Invoice__c"
fields = ["Name", "Nmuber__c", "Acount__r.Number__c"]

[[mapping]]
object = "Invoise__c"

[[mapping]]
object = "Account"
fields = ["Name"]
upsert_field = "Name"
"#;

fn check(env: &Env, name: &str, text: &str) -> (Option<i32>, String, String) {
    let path = env.mappings.with_file_name(name);
    std::fs::write(&path, text).unwrap();
    let out = env.run(&["mappings", "check", "--file", path.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_exits_0_for_a_good_file_and_1_listing_every_problem() {
    let env = Env::new("mappings_check", org(), GOOD).await;

    let (code, stdout, stderr) = check(&env, "good.toml", GOOD);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 mapping(s) match the org"), "{stdout}");
    // Without --file it checks ORGPOOL_MAPPINGS (the same good file here).
    let out = env.run(&["mappings", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing was started: no run, no mapping recorded.
    assert_eq!(env.count("SELECT count(*) FROM orgpool.runs").await, 0);
    assert_eq!(env.count("SELECT count(*) FROM orgpool.mappings").await, 0);

    let (code, stdout, stderr) = check(&env, "bad.toml", BAD);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("problem: "))
        .collect();
    assert_eq!(problems.len(), 4, "{stderr}");
    assert!(
        problems[0].contains("mapping Invoice__c")
            && problems[0].contains("field Nmuber__c does not exist on Invoice__c"),
        "{stderr}"
    );
    assert!(
        problems[1].contains("mapping Invoice__c")
            && problems[1].contains("Acount__r.Number__c: Invoice__c has no such relationship")
            && problems[1].contains("Account__r"),
        "{stderr}"
    );
    assert!(
        problems[2].contains("mapping Invoise__c") && problems[2].contains("no object Invoise__c"),
        "{stderr}"
    );
    assert!(
        problems[3].contains("mapping Account")
            && problems[3].contains("upsert_field Name is not an External ID field"),
        "{stderr}"
    );
    assert!(stderr.contains("4 problem(s)"), "{stderr}");

    // A file that does not parse names the key.
    let (code, _, stderr) = check(
        &env,
        "typo.toml",
        "[[mapping]]\nobject = \"Account\"\nindexs = [\"Name\"]\n",
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("indexs"), "{stderr}");

    // read_write without an upsert field: refused before the org is asked.
    let (code, _, stderr) = check(
        &env,
        "rw.toml",
        "[[mapping]]\nobject = \"Invoice__c\"\naccess = \"read_write\"\n",
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("mapping Invoice__c")
            && stderr.contains("second record")
            && stderr.contains("allow_insert_without_upsert_field = true"),
        "{stderr}"
    );
}
