//! `deploy/`: the Kubernetes manifests pass kubernetes-validate (strict: no unknown
//! field) for Kubernetes 1.29 and 1.37, and a broken one does not; they hold a Deployment
//! per process type, the migrate Job, `/healthz` probes on the web port, worker
//! replicas, a grace period longer than the workers' shutdown grace and an autoscaler on
//! a series orgpool exports; every setting they set is one orgpool reads; and every
//! command they and the Dockerfile give is a subcommand the binary accepts (its
//! `--help` succeeds). The CI machine has no container engine, so the image is not
//! built here. The validator is installed by scripts/test into tests/tools/.venv.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn venv_bin(name: &str) -> PathBuf {
    let path = Path::new(ROOT).join("tests/tools/.venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing; scripts/test installs it (ensure_deploy_tools in scripts/lib.sh)",
        path.display()
    );
    path
}

fn manifest_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("deploy/kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    files
}

/// kubernetes-validate's verdict on `files` for Kubernetes `version`.
fn validate(version: &str, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(venv_bin("kubernetes-validate"))
        .args(["--strict", "--kubernetes-version", version])
        .args(files)
        .output()
        .expect("kubernetes-validate runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Every document of every manifest, as JSON (read with the validator's own YAML
/// parser, so both see the same thing).
fn documents() -> Vec<Value> {
    let mut docs = Vec::new();
    for f in manifest_files() {
        let out = Command::new(venv_bin("python"))
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
            ])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        docs.extend(list);
    }
    docs
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
}

fn container(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]["containers"][0]
}

fn env_value<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
}

/// `orgpool ARGS --help` succeeds: the subcommand and its flags exist.
fn accepted(args: &[String]) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_orgpool"))
        .args(args)
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "orgpool {} --help: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_manifests_pass_the_kubernetes_schemas_strictly() {
    for version in ["1.29.0", "1.37.0"] {
        let (ok, out) = validate(version, &manifest_files());
        assert!(ok, "Kubernetes {version}:\n{out}");
    }
}

#[test]
fn the_validator_refuses_a_broken_manifest() {
    let text = std::fs::read_to_string(format!("{ROOT}/deploy/kubernetes/worker.yaml")).unwrap();
    let dir = std::env::temp_dir().join(format!("orgpool-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, broken) in [
        ("type.yaml", text.replace("replicas: 2", "replicas: two")),
        (
            "field.yaml",
            text.replace("terminationGracePeriodSeconds", "terminationGraceSeconds"),
        ),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, broken).unwrap();
        let (ok, out) = validate("1.37.0", &[file]);
        assert!(!ok, "{name} passes:\n{out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_deployment_per_process_type_and_a_migrate_job_run_real_subcommands() {
    let docs = documents();
    let mut problems = Vec::new();
    for component in ["web", "scheduler", "worker"] {
        let d = find(&docs, "Deployment", &format!("orgpool-{component}"));
        let args = strings(&container(d)["args"]);
        assert_eq!(args.first().map(String::as_str), Some(component), "{d}");
        problems.extend(accepted(&args).err());
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{component}");
        assert_eq!(
            container(d)["securityContext"]["readOnlyRootFilesystem"],
            true,
            "{component}"
        );
    }
    let job = find(&docs, "Job", "orgpool-migrate");
    let args = strings(&container(job)["args"]);
    assert_eq!(args, ["migrate"]);
    problems.extend(accepted(&args).err());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_web_probes_healthz_and_workers_scale_by_replicas() {
    let docs = documents();
    let web = find(&docs, "Deployment", "orgpool-web");
    let c = container(web);
    let port = &c["ports"][0];
    assert_eq!(
        port["containerPort"]
            .as_u64()
            .map(|p| p.to_string())
            .as_deref(),
        env_value(c, "PORT")
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["httpGet"]["path"], "/healthz", "{probe}");
        assert_eq!(c[probe]["httpGet"]["port"], port["name"], "{probe}");
    }
    let service = find(&docs, "Service", "orgpool-web");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], port["name"]);
    assert_eq!(
        service["spec"]["selector"],
        web["spec"]["selector"]["matchLabels"]
    );

    // Workers and the scheduler: liveness on their own /metrics port.
    for name in ["orgpool-worker", "orgpool-scheduler"] {
        let c = container(find(&docs, "Deployment", name));
        let metrics = env_value(c, "METRICS_PORT").expect("METRICS_PORT");
        assert_eq!(
            c["ports"][0]["containerPort"].to_string(),
            metrics,
            "{name}"
        );
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/metrics", "{name}");
    }

    let worker = find(&docs, "Deployment", "orgpool-worker");
    assert!(worker["spec"]["replicas"].as_u64().is_some_and(|n| n >= 1));
    // The grace period outlasts a worker's own shutdown grace (ORGPOOL_SHUTDOWN_GRACE).
    let grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap();
    let own = match orgpool::settings::find("ORGPOOL_SHUTDOWN_GRACE")
        .unwrap()
        .default
    {
        orgpool::settings::DefaultText::Value(v) => orgpool::mirror::parse_duration(v).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(grace > own.as_secs(), "{grace} s <= {own:?}");

    let hpa = find(&docs, "HorizontalPodAutoscaler", "orgpool-worker");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "orgpool-worker");
    let metric = &hpa["spec"]["metrics"][0]["external"]["metric"];
    let name = metric["name"].as_str().unwrap();
    assert_eq!(name, orgpool::telemetry::fleet::QUEUE_TASKS);
    assert_eq!(metric["selector"]["matchLabels"]["state"], "ready");
}

#[test]
fn every_setting_the_manifests_set_is_one_orgpool_reads() {
    let docs = documents();
    let mut names: Vec<String> = Vec::new();
    for d in &docs {
        if d["kind"] == "Secret" {
            names.extend(d["stringData"].as_object().unwrap().keys().cloned());
        }
        for c in d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for e in c["env"].as_array().into_iter().flatten() {
                names.push(e["name"].as_str().unwrap().to_string());
            }
            for r in c["envFrom"].as_array().into_iter().flatten() {
                assert_eq!(r["secretRef"]["name"], "orgpool", "{c}");
            }
        }
    }
    assert!(names.len() > 8, "{names:?}");
    for n in names {
        assert!(
            orgpool::settings::find(&n).is_some(),
            "{n} is not a setting orgpool reads"
        );
    }
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn dockerfile() -> Vec<String> {
    let text = std::fs::read_to_string(format!("{ROOT}/deploy/Dockerfile")).unwrap();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => cur.push_str(part),
            None => {
                cur.push_str(line);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    out
}

fn instruction<'a>(lines: &'a [String], word: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(word).and_then(|r| r.strip_prefix(' ')))
        .map(str::trim)
        .collect()
}

#[test]
fn the_dockerfile_runs_the_one_binary_as_a_non_root_user() {
    let lines = dockerfile();
    let from = instruction(&lines, "FROM");
    assert!(from.len() >= 2, "multi-stage: {from:?}");
    let runs = instruction(&lines, "RUN").join("\n");
    assert!(
        runs.contains("cargo build --release --locked --bin orgpool"),
        "{runs}"
    );
    let entry: Vec<String> =
        serde_json::from_str(instruction(&lines, "ENTRYPOINT").last().unwrap()).unwrap();
    let cmd: Vec<String> =
        serde_json::from_str(instruction(&lines, "CMD").last().unwrap()).unwrap();
    // The runtime stage copies the binary to where the entrypoint runs it from.
    let copies = instruction(&lines, "COPY");
    assert!(
        copies
            .iter()
            .any(|c| c.starts_with("--from=build") && c.ends_with(&entry[0])),
        "{copies:?} {entry:?}"
    );
    assert_eq!(entry.len(), 1, "{entry:?}");
    assert!(entry[0].ends_with("/orgpool"), "{entry:?}");
    accepted(&cmd).unwrap();
    // The job catalogue lands where the default ORGPOOL_MAPPINGS points, from WORKDIR.
    let workdir = instruction(&lines, "WORKDIR").last().unwrap().to_string();
    let mappings = match orgpool::settings::find("ORGPOOL_MAPPINGS").unwrap().default {
        orgpool::settings::DefaultText::Value(v) => v,
        other => panic!("{other:?}"),
    };
    let jobs_dir = Path::new(mappings).parent().unwrap().display().to_string();
    assert!(
        copies
            .iter()
            .any(|c| c.ends_with(&format!("{workdir}/{jobs_dir}/"))),
        "{copies:?}"
    );
    let user = instruction(&lines, "USER").last().unwrap().to_string();
    assert!(
        !matches!(user.split(':').next(), Some("0" | "root")),
        "runs as {user}"
    );
    let port = instruction(&lines, "EXPOSE").last().unwrap().to_string();
    assert!(instruction(&lines, "ENV").contains(&format!("PORT={port}").as_str()));
}
