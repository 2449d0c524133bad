//! Sharded sweeps on the real binary: `run --shard K/N` (or the batch systems' environment
//! variables) and `merge`, whose summary.csv, stats.csv, namespaces.csv and run folders
//! must be byte-identical to the unsharded sweep's; merge's refusals; and the deploy/
//! files for Kubernetes and Slurm.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/cli.rs"]
mod support;
use support::{assert_code, stderr};

/// Random arrivals and durations, so the seed matters; a tight cluster, so the scheduler
/// matters too. Short, so a debug build runs it in milliseconds.
const POISSON: &str = "\
name: poisson
seed: 3
duration: 1h
cluster:
  nodePools: [{name: n, count: 3, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - batch: jobs
    arrivals: {process: poisson, ratePerMinute: 2}
    duration: {dist: exponential, mean: 10m}
    requests: {cpu: \"1\", memory: 1Gi}
";

/// A second scenario, with two namespaces so namespaces.csv has several rows per run.
const TEAMS: &str = "\
name: teams
seed: 1
duration: 1h
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - batch: a
    namespace: alpha
    arrivals: {process: poisson, ratePerMinute: 1}
    duration: {dist: exponential, mean: 15m}
    requests: {cpu: \"1\", memory: 1Gi}
  - batch: b
    namespace: beta
    arrivals: {process: poisson, ratePerMinute: 1}
    duration: {dist: exponential, mean: 15m}
    requests: {cpu: \"2\", memory: 1Gi}
";

/// The environment variables that pick a shard: cleared for every command, so a test run
/// inside a batch job is not sliced by its own job's variables.
const SHARD_VARS: [&str; 5] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_STEP",
];

/// The binary with `args` in `cwd`, with `env` set and no other shard variable.
fn schedlab_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schedlab"));
    command.args(args).current_dir(cwd);
    for var in SHARD_VARS {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command.output().expect("the schedlab binary starts")
}

fn schedlab(cwd: &Path, args: &[&str]) -> Output {
    schedlab_env(cwd, args, &[])
}

/// Every file under `dir` but manifest.json (it records the invocation), by relative path,
/// with its bytes.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else if path.file_name() != Some("manifest.json".as_ref()) {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                files.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

/// The sweep of the tests: 2 scenarios x 2 schedulers x 3 seeds = 12 runs, with the
/// second scheduler as the stats.csv baseline.
const SWEEP: [&str; 9] = [
    "poisson.yaml",
    "teams.yaml",
    "--scheduler",
    "first-fit",
    "--scheduler",
    "best-fit",
    "--seeds",
    "3",
    "--baseline=best-fit",
];

/// A folder with the two scenarios.
fn scenarios() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("poisson.yaml"), POISSON).unwrap();
    fs::write(dir.path().join("teams.yaml"), TEAMS).unwrap();
    dir
}

/// Runs the sweep into `out` with `extra` arguments, checking it succeeds.
fn run_sweep(dir: &Path, out: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<&str> = ["run"]
        .into_iter()
        .chain(SWEEP)
        .chain(["--out", out])
        .chain(extra.iter().copied())
        .collect();
    let output = schedlab_env(dir, &args, env);
    assert_code(&output, 0);
    output
}

fn manifest(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn three_shards_merged_equal_the_unsharded_sweep_byte_for_byte() {
    let dir = scenarios();
    let d = dir.path();
    run_sweep(d, "all", &[], &[]);
    for k in 1..=3 {
        run_sweep(d, &format!("s{k}"), &["--shard", &format!("{k}/3")], &[]);
        // Round-robin: run i goes to shard i mod 3 + 1, 4 of the 12 runs each.
        let rows = fs::read_to_string(d.join(format!("s{k}/summary.csv"))).unwrap();
        assert_eq!(rows.lines().count(), 1 + 4, "shard {k}:\n{rows}");
    }
    // Shard 2/3 holds plan positions 1, 4, 7, 10: poisson/first-fit seed 2, poisson/
    // best-fit seed 2, teams/first-fit seed 2, teams/best-fit seed 2.
    let shard = manifest(&d.join("s2"));
    let runs: Vec<(u64, &str)> = shard["shard"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["dir"].as_str().unwrap()))
        .collect();
    assert_eq!(
        runs,
        [
            (1, "poisson/first-fit/seed-2"),
            (4, "poisson/best-fit/seed-2"),
            (7, "teams/first-fit/seed-2"),
            (10, "teams/best-fit/seed-2")
        ]
    );
    assert_eq!(shard["shard"]["planned_runs"], 12);
    assert_eq!(shard["shard"]["complete"], true);
    assert_eq!(shard["shard"]["source"], "--shard");

    // Shards given in any order.
    let out = schedlab(d, &["merge", "s3", "s1", "s2", "--out", "merged"]);
    assert_code(&out, 0);
    let (all, merged) = (files_under(&d.join("all")), files_under(&d.join("merged")));
    assert_eq!(
        all.keys().collect::<Vec<_>>(),
        merged.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &all {
        assert!(merged[path] == *bytes, "{} differs", path.display());
    }
    // The comparison is not vacuous: 12 rows, two namespaces per teams run, and paired
    // statistics against best-fit.
    let summary = String::from_utf8(merged[Path::new("summary.csv")].clone()).unwrap();
    assert_eq!(summary.lines().count(), 13);
    let namespaces = String::from_utf8(merged[Path::new("namespaces.csv")].clone()).unwrap();
    assert!(
        namespaces.contains("\nteams,best-fit,3,alpha,"),
        "{namespaces}"
    );
    assert!(
        namespaces.contains("\nteams,best-fit,3,beta,"),
        "{namespaces}"
    );
    let stats = String::from_utf8(merged[Path::new("stats.csv")].clone()).unwrap();
    assert!(
        stats.contains("\npoisson,first-fit,pods_scheduled,3,"),
        "{stats}"
    );
    assert!(stats.contains(",best-fit,3,"), "{stats}");

    // The merged manifest reruns the whole sweep.
    let m = manifest(&d.join("merged"));
    assert!(m.get("shard").is_none());
    assert_eq!(m["merged_from"].as_array().unwrap().len(), 3);
    let arguments: Vec<&str> = m["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(arguments, SWEEP);
    let out = schedlab(
        d,
        &["run", "--from", "merged/manifest.json", "--out", "rerun"],
    );
    assert_code(&out, 0);
    assert_eq!(
        fs::read(d.join("rerun/summary.csv")).unwrap(),
        fs::read(d.join("all/summary.csv")).unwrap()
    );

    // --move empties the shards' run folders into the merge, with the same result.
    let out = schedlab(d, &["merge", "s1", "s2", "s3", "--out", "moved", "--move"]);
    assert_code(&out, 0);
    assert!(files_under(&d.join("moved")) == all);
    assert!(!d.join("s1/poisson/first-fit/seed-1").exists());
}

#[test]
fn more_shards_than_runs_and_parameter_sweeps_merge_too() {
    let dir = scenarios();
    let d = dir.path();
    // 1 scenario x 1 scheduler x 2 seeds x 2 points = 4 runs over 6 shards: two are empty.
    let sweep = [
        "run",
        "poisson.yaml",
        "--seeds",
        "2",
        "--set",
        "cluster.nodePools.n.count=2,4",
    ];
    let run = |out: &str, extra: &[&str]| {
        let args: Vec<&str> = sweep
            .iter()
            .copied()
            .chain(["--out", out])
            .chain(extra.iter().copied())
            .collect();
        assert_code(&schedlab(d, &args), 0);
    };
    run("all", &[]);
    let mut shards = Vec::new();
    for k in 1..=6 {
        let out = format!("s{k}");
        run(&out, &["--shard", &format!("{k}/6")]);
        shards.push(out);
    }
    assert_eq!(
        fs::read_to_string(d.join("s6/summary.csv")).unwrap(),
        "scenario,scheduler,seed\n"
    );
    let args: Vec<&str> = ["merge"]
        .into_iter()
        .chain(shards.iter().map(String::as_str))
        .chain(["-o", "merged"])
        .collect();
    assert_code(&schedlab(d, &args), 0);
    assert!(files_under(&d.join("all")) == files_under(&d.join("merged")));
}

#[test]
fn merge_refuses_other_sweeps_missing_duplicate_and_unfinished_shards() {
    let dir = scenarios();
    let d = dir.path();
    for k in 1..=3 {
        run_sweep(d, &format!("s{k}"), &["--shard", &format!("{k}/3")], &[]);
    }
    let refused = |args: &[&str], expected: &str| {
        let out = schedlab(d, args);
        assert_code(&out, 2);
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        assert!(!d.join("merged").exists(), "nothing may be written");
    };
    refused(
        &["merge", "s1", "s3", "--out", "merged"],
        "missing shard(s) 2/3 of the sweep",
    );
    refused(
        &["merge", "s1", "s2", "s2", "s3", "--out", "merged"],
        "s2 and s2 are both shard 2/3",
    );
    refused(
        &["merge", "s1", "s2", "s3", "--out", "s2"],
        "--out s2 is one of the shards",
    );

    // Another sweep: other seeds.
    let args: Vec<&str> = ["run"]
        .into_iter()
        .chain(SWEEP)
        .chain(["--seeds", "4..5", "--shard", "2/3", "--out", "other"])
        .collect();
    assert_code(&schedlab(d, &args), 0);
    refused(
        &["merge", "s1", "other", "s3", "--out", "merged"],
        "s1 and other are shards of different sweeps: their arguments differ",
    );
    // The same arguments, but a scenario file changed in between.
    fs::write(d.join("teams.yaml"), TEAMS.replace("seed: 1", "seed: 2")).unwrap();
    run_sweep(d, "changed", &["--shard", "3/3"], &[]);
    refused(
        &["merge", "s1", "s2", "changed", "--out", "merged"],
        "s1 and changed are shards of different sweeps: teams.yaml differs",
    );
    // The same sweep cut in a different number of shards.
    fs::write(d.join("teams.yaml"), TEAMS).unwrap();
    run_sweep(d, "half", &["--shard", "2/2"], &[]);
    refused(
        &["merge", "s1", "half", "s3", "--out", "merged"],
        "one is split 3 ways over 12 runs, the other 2 ways over 12 runs",
    );
    // A whole sweep is not a shard.
    run_sweep(d, "whole", &[], &[]);
    refused(
        &["merge", "whole", "s2", "s3", "--out", "merged"],
        "not a shard (no `shard` record)",
    );

    // A shard that did not finish (as a killed shard leaves its manifest) is refused.
    let path = d.join("s2/manifest.json");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replace("\"complete\": true", "\"complete\": false"),
    )
    .unwrap();
    let out = schedlab(d, &["merge", "s1", "s2", "s3", "--out", "merged"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("s2: shard 2/3 is not complete"),
        "{}",
        stderr(&out)
    );
    fs::write(&path, text).unwrap();

    // Damaged shards are errors naming the file, never panics.
    let summary = d.join("s3/summary.csv");
    let rows = fs::read_to_string(&summary).unwrap();
    fs::write(&summary, "only\n").unwrap();
    let out = schedlab(d, &["merge", "s1", "s2", "s3", "--out", "merged"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("s3/summary.csv: not a sweep's summary.csv"),
        "{}",
        stderr(&out)
    );
    fs::write(&summary, rows).unwrap();
    fs::remove_dir_all(d.join("s3/teams/first-fit/seed-3")).unwrap();
    let out = schedlab(d, &["merge", "s1", "s2", "s3", "--out", "merged"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("s3/teams/first-fit/seed-3/summary.csv"),
        "{}",
        stderr(&out)
    );
    // A made-up number of planned runs in every manifest.
    for k in 1..=3 {
        let path = d.join(format!("s{k}/manifest.json"));
        let text = fs::read_to_string(&path).unwrap();
        let text = text.replace("\"planned_runs\": 12", "\"planned_runs\": 1000000000000");
        fs::write(&path, text).unwrap();
    }
    let out = schedlab(d, &["merge", "s1", "s2", "s3", "--out", "merged"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("list 12 run(s) in all, but the sweep planned 1000000000000"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn batch_system_variables_pick_the_shard() {
    let dir = scenarios();
    let d = dir.path();
    run_sweep(d, "by-flag", &["--shard", "2/3"], &[]);
    let by_flag = files_under(&d.join("by-flag"));

    // Kubernetes: a 0-based index, the count from --shards.
    let out = run_sweep(
        d,
        "k8s",
        &["--shards", "3"],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    assert!(
        stderr(&out).contains("running shard 2/3 (JOB_COMPLETION_INDEX=1)"),
        "{}",
        stderr(&out)
    );
    assert!(files_under(&d.join("k8s")) == by_flag);
    let m = manifest(&d.join("k8s"));
    assert_eq!(m["shard"]["index"], 2);
    assert_eq!(m["shard"]["source"], "JOB_COMPLETION_INDEX=1");

    // Slurm: the id counted from the array's minimum, the count from the array.
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "11"),
        ("SLURM_ARRAY_TASK_MIN", "10"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    run_sweep(d, "slurm", &[], &slurm);
    assert!(files_under(&d.join("slurm")) == by_flag);
    // Shards picked different ways merge as one sweep.
    run_sweep(d, "s1", &["--shard", "1/3"], &[]);
    run_sweep(d, "s3", &["--shards=3"], &[("JOB_COMPLETION_INDEX", "2")]);
    assert_code(
        &schedlab(d, &["merge", "s1", "slurm", "s3", "--out", "merged"]),
        0,
    );
    // --shard 1/1 runs the whole sweep even inside an array job.
    run_sweep(d, "whole", &["--shard", "1/1"], &slurm);
    run_sweep(d, "all", &[], &[]);
    assert!(files_under(&d.join("whole")) == files_under(&d.join("all")));
    assert!(files_under(&d.join("merged")) == files_under(&d.join("all")));

    // Bad values are usage errors that say what is wrong, before anything is written.
    let bad = |extra: &[&str], env: &[(&str, &str)], expected: &str| {
        let args: Vec<&str> = ["run"]
            .into_iter()
            .chain(SWEEP)
            .chain(["--out", "bad"])
            .chain(extra.iter().copied())
            .collect();
        let out = schedlab_env(d, &args, env);
        assert_code(&out, 2);
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        assert!(!d.join("bad").exists());
    };
    bad(&["--shard", "0/3"], &[], "K counts from 1");
    bad(&["--shard", "4/3"], &[], "shard 4 of 3 does not exist");
    bad(
        &["--shard", "x/y"],
        &[],
        "K \"x\" in \"x/y\" is not a whole number",
    );
    bad(
        &[],
        &[("JOB_COMPLETION_INDEX", "1")],
        "pass --shards N with the Job's completions",
    );
    bad(
        &["--shards", "3"],
        &[("JOB_COMPLETION_INDEX", "3")],
        "shard 4 of 3 does not exist",
    );
    bad(
        &["--shards", "3"],
        &[],
        "needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID",
    );
}

/// The repository's own file.
fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_kubernetes_manifests_are_an_indexed_job_and_a_merge_of_all_its_shards() {
    let text = fs::read_to_string(repo_file("deploy/kubernetes/sweep-job.yaml")).unwrap();
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["PersistentVolumeClaim", "Job", "Job"]);
    let (pvc, sweep, merge) = (&docs[0], &docs[1], &docs[2]);
    let claim = pvc["metadata"]["name"].as_str().unwrap();
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
    // The README applies them in two steps by these labels.
    let step = |d: &serde_json::Value| d["metadata"]["labels"]["schedlab.io/step"].clone();
    assert_eq!(step(pvc), "sweep");
    assert_eq!(step(sweep), "sweep");
    assert_eq!(step(merge), "merge");
    for job in [sweep, merge] {
        assert_eq!(job["apiVersion"], "batch/v1");
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(
            pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
            claim
        );
        assert_eq!(
            pod["containers"][0]["volumeMounts"][0]["name"],
            pod["volumes"][0]["name"]
        );
    }

    assert_eq!(sweep["spec"]["completionMode"], "Indexed");
    let completions = sweep["spec"]["completions"].as_u64().unwrap();
    assert_eq!(sweep["spec"]["parallelism"].as_u64(), Some(completions));
    let container = &sweep["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], serde_json::json!(["sh", "-c"]));
    let script = container["args"][0].as_str().unwrap();
    let words: Vec<&str> = script.split_whitespace().collect();
    assert_eq!(&words[..3], ["exec", "schedlab", "run"]);
    let after = |flag: &str| words[words.iter().position(|w| *w == flag).unwrap() + 1].to_string();
    assert_eq!(after("--shards"), completions.to_string());
    assert_eq!(after("--out"), "/results/shard-$JOB_COMPLETION_INDEX");
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert_eq!(mount, "/results");

    // The merge Job lists every shard's folder, then the output.
    let container = &merge["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], serde_json::json!(["schedlab"]));
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let mut expected = vec!["merge".to_string()];
    expected.extend((0..completions).map(|i| format!("/results/shard-{i}")));
    expected.extend(["--out".to_string(), "/results/merged".to_string()]);
    assert_eq!(args, expected);

    // The sweep's own arguments are a valid sweep of bundled scenarios: running its first
    // shard the way a pod would (from the repository root, standing in for the image's
    // /sweep) succeeds.
    let out = tempfile::tempdir().unwrap();
    let shard_out = out.path().join("shard-0");
    let mut run: Vec<String> = words[2..words.len() - 2]
        .iter()
        .map(|w| w.to_string())
        .collect();
    run.extend(["--out".to_string(), shard_out.display().to_string()]);
    let run: Vec<&str> = run.iter().map(String::as_str).collect();
    let output = schedlab_env(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &run,
        &[("JOB_COMPLETION_INDEX", "0")],
    );
    assert_code(&output, 0);
    assert_eq!(manifest(&shard_out)["shard"]["count"], completions);
}

#[test]
fn the_slurm_script_parses_and_submits_an_array_and_a_dependent_merge() {
    let script = repo_file("deploy/slurm/sweep.sbatch");
    let out = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Run it with a stand-in `sbatch` on PATH that records its arguments and answers with
    // a job id, as `sbatch --parsable` does.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let log = dir.path().join("sbatch.log");
    let fake = bin.join("sbatch");
    fs::write(
        &fake,
        format!(
            "#!/bin/bash\nprintf '%s\\n' \"$@\" '--' >> '{}'\necho $((100 + $(grep -c '^--$' '{}')))\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // From the repository root, as a user would submit it; the results go to a temporary
    // folder, and the jobs' commands name this build's binary.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let res = dir.path().join("res");
    let binary = env!("CARGO_BIN_EXE_schedlab");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(root)
        .env("PATH", path)
        .env("SHARDS", "3")
        .env("OUT", &res)
        .env("SCHEDLAB", binary)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = fs::read_to_string(&log).unwrap();
    let calls: Vec<Vec<&str>> = calls
        .split("--\n")
        .filter(|c| !c.is_empty())
        .map(|c| c.lines().collect())
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].contains(&"--array=0-2"), "{:?}", calls[0]);
    let wrap = |call: &[&str]| {
        call.iter()
            .find_map(|a| a.strip_prefix("--wrap="))
            .unwrap()
            .to_string()
    };
    let (sweep, merge) = (wrap(&calls[0]), wrap(&calls[1]));
    let shard_out = format!("--out {}/shard-$SLURM_ARRAY_TASK_ID", res.display());
    assert!(sweep.ends_with(&shard_out), "{sweep}");
    // The merge waits for the array (whose id the fake answered 101) to succeed.
    assert!(
        calls[1].contains(&"--dependency=afterok:101"),
        "{:?}",
        calls[1]
    );
    let r = res.display();
    assert_eq!(
        merge,
        format!("{binary} merge {r}/shard-0 {r}/shard-1 {r}/shard-2 --out {r}/merged")
    );

    // Play the jobs as Slurm would: each array task's command with its task variables,
    // then the merge; the result is the unsharded sweep's.
    let shell = |command: &str, env: &[(&str, &str)]| {
        let mut c = Command::new("bash");
        c.arg("-c").arg(command).current_dir(root);
        for var in SHARD_VARS {
            c.env_remove(var);
        }
        let out = c.envs(env.iter().copied()).output().unwrap();
        assert_code(&out, 0);
    };
    for id in ["0", "1", "2"] {
        shell(
            &sweep,
            &[
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
        );
    }
    shell(&merge, &[]);
    let whole = sweep.replace(&shard_out, &format!("--out {r}/all"));
    shell(&whole, &[]);
    let merged = files_under(&res.join("merged"));
    assert!(merged.len() > 3, "{:?}", merged.keys());
    assert!(merged == files_under(&res.join("all")));
}
