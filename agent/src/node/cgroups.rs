//! Resource limits for a container's processes: cgroup v2, the cgroup v1 memory and cpu
//! controllers, or (where neither is writable) nothing here, and the runtime samples the
//! process tree's memory instead.
//!
//! Where the limits come from: `memory.max` / `memory.limit_in_bytes` get the container's
//! memory limit in bytes; `cpu.max` / `cpu.cfs_quota_us` get its CPU limit as a CFS quota
//! over a 100 ms period, which is how the kubelet turns `resources.limits.cpu` into a quota
//! (`milliCPUToQuota` in pkg/kubelet/cm/helpers_linux.go). An OOM kill is read back from
//! the `oom_kill` counter of `memory.events` (v2) or `memory.oom_control` (v1), so it is
//! seen even when the kernel killed a child of the container's main process.
//!
//! Each container gets its own leaf cgroup `<agent's cgroup>/schedlab/<pod uid>/<container>`
//! under the cgroup the agent itself runs in, so nested agents and machines that delegate a
//! subtree to the agent both work.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Which mechanism enforces the containers' limits on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Enforcement {
    /// The unified hierarchy: `memory.max`, `cpu.max`, `memory.events`.
    CgroupV2,
    /// The v1 `memory` (and, where mounted, `cpu`) controllers.
    CgroupV1,
    /// No writable cgroup hierarchy: the runtime sums the RSS of each container's process
    /// group from /proc on every tick and kills the group past its limit. CPU limits are
    /// not enforced.
    Sampling,
}

impl Enforcement {
    /// The name the docs and the agent's log use.
    pub fn name(self) -> &'static str {
        match self {
            Enforcement::CgroupV2 => "cgroup v2",
            Enforcement::CgroupV1 => "cgroup v1",
            Enforcement::Sampling => "sampling /proc",
        }
    }
}

/// The CFS period the kubelet uses, in microseconds.
const CFS_PERIOD_US: i64 = 100_000;

/// Where a hierarchy's containers go, found once when the runtime opens.
#[derive(Clone, Debug)]
pub struct Cgroups {
    kind: Enforcement,
    /// v2: the one `schedlab` directory; v1: the memory one, then the cpu one if mounted.
    bases: Vec<PathBuf>,
}

/// A container's own cgroup directories (one per hierarchy used).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerCgroup {
    /// The directories, the memory one first.
    pub dirs: Vec<PathBuf>,
    /// Which kind of hierarchy they are in.
    pub v2: bool,
}

impl Cgroups {
    /// Finds a writable hierarchy: v2 with the memory and cpu controllers delegated, else
    /// v1's memory controller. `None` means sampling.
    pub fn detect() -> Option<Cgroups> {
        let own = fs::read_to_string("/proc/self/cgroup").ok()?;
        Cgroups::detect_in(Path::new("/sys/fs/cgroup"), &own)
    }

    /// [`Cgroups::detect`] with the cgroup file systems under `sys_fs_cgroup` and the
    /// agent's /proc/self/cgroup given: tests point it at a directory tree of their own.
    pub fn detect_in(sys_fs_cgroup: &Path, proc_self_cgroup: &str) -> Option<Cgroups> {
        detect_v2(sys_fs_cgroup, proc_self_cgroup)
            .or_else(|| detect_v1(sys_fs_cgroup, proc_self_cgroup))
    }

    /// The enforcement path these cgroups give.
    pub fn kind(&self) -> Enforcement {
        self.kind
    }

    /// Creates the container's cgroup and writes its limits. Existing directories (left
    /// by a crashed agent) are reused.
    pub fn create(
        &self,
        pod_uid: &str,
        container: &str,
        memory_bytes: Option<i64>,
        cpu_millis: Option<i64>,
    ) -> io::Result<ContainerCgroup> {
        let mut dirs = Vec::new();
        for (i, base) in self.bases.iter().enumerate() {
            let dir = base.join(sanitize(pod_uid)).join(sanitize(container));
            fs::create_dir_all(&dir)?;
            match self.kind {
                Enforcement::CgroupV2 => {
                    // The pod directory passes the controllers down to its containers.
                    let pod_dir = dir.parent().expect("container dir has a parent");
                    let _ = fs::write(pod_dir.join("cgroup.subtree_control"), "+memory +cpu");
                    if let Some(bytes) = memory_bytes {
                        fs::write(dir.join("memory.max"), bytes.to_string())?;
                        // Without swap off, a limit only pushes pages out instead of killing.
                        let _ = fs::write(dir.join("memory.swap.max"), "0");
                    }
                    if let Some(m) = cpu_millis {
                        fs::write(dir.join("cpu.max"), format!("{} {CFS_PERIOD_US}", quota(m)))?;
                    }
                }
                _ => {
                    // bases[0] is v1's memory hierarchy, bases[1] its cpu one.
                    if i == 0 {
                        if let Some(bytes) = memory_bytes {
                            fs::write(dir.join("memory.limit_in_bytes"), bytes.to_string())?;
                            let _ = fs::write(dir.join("memory.swappiness"), "0");
                        }
                    } else if let Some(m) = cpu_millis {
                        fs::write(dir.join("cpu.cfs_period_us"), CFS_PERIOD_US.to_string())?;
                        fs::write(dir.join("cpu.cfs_quota_us"), quota(m).to_string())?;
                    }
                }
            }
            dirs.push(dir);
        }
        Ok(ContainerCgroup {
            dirs,
            v2: self.kind == Enforcement::CgroupV2,
        })
    }

    /// Removes a pod's directory in every hierarchy once its containers' are gone.
    pub fn remove_pod(&self, pod_uid: &str) {
        for base in &self.bases {
            let _ = fs::remove_dir(base.join(sanitize(pod_uid)));
        }
    }
}

impl ContainerCgroup {
    /// The `cgroup.procs` files a new process writes itself into before it execs.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// How many times the kernel's OOM killer has killed a process of this cgroup.
    pub fn oom_kills(&self) -> u64 {
        let Some(dir) = self.dirs.first() else {
            return 0;
        };
        let file = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        fs::read_to_string(dir.join(file))
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    l.strip_prefix("oom_kill ")
                        .and_then(|n| n.trim().parse().ok())
                })
            })
            .unwrap_or(0)
    }

    /// The pids still in the cgroup (a process that left its process group is here).
    pub fn pids(&self) -> Vec<i32> {
        let Some(dir) = self.dirs.first() else {
            return Vec::new();
        };
        fs::read_to_string(dir.join("cgroup.procs"))
            .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Removes the container's directories, and its pod's once empty; false while
    /// processes remain in them.
    pub fn remove(&self) -> bool {
        let mut all = true;
        for dir in &self.dirs {
            if dir.exists() && fs::remove_dir(dir).is_err() {
                all = false;
            } else if let Some(pod_dir) = dir.parent() {
                // Fails while another container of the pod has its directory: that one
                // removes the pod's when it goes.
                let _ = fs::remove_dir(pod_dir);
            }
        }
        all
    }
}

/// The CFS quota for a CPU limit: `milli * period / 1000`, at least the kernel's 1 ms.
fn quota(milli: i64) -> i64 {
    (milli * CFS_PERIOD_US / 1000).max(1000)
}

/// A pod uid or container name as one path component.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The agent's own cgroup path in a hierarchy, from /proc/self/cgroup: `0::/path` for v2,
/// `N:memory:/path` (or `N:cpu,cpuacct:/path`) for v1.
fn own_path(proc_cgroup: &str, controller: Option<&str>) -> Option<String> {
    proc_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let _id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        let matches = match controller {
            None => controllers.is_empty(),
            Some(c) => controllers.split(',').any(|x| x == c),
        };
        matches.then(|| path.to_string())
    })
}

fn join_mount(mount: &Path, path: &str) -> PathBuf {
    mount.join(path.trim_start_matches('/'))
}

/// A directory is usable when the agent can create and remove a child in it.
fn writable(dir: &Path) -> bool {
    // Unique per call: runtimes opened at once in one process must not share a probe.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = dir.join(format!("schedlab-probe-{}-{n}", std::process::id()));
    if fs::create_dir(&probe).is_err() {
        return false;
    }
    let _ = fs::remove_dir(&probe);
    true
}

fn detect_v2(sys: &Path, own: &str) -> Option<Cgroups> {
    let path = own_path(own, None)?;
    let mount = [sys.to_path_buf(), sys.join("unified")]
        .into_iter()
        .find(|m| m.join("cgroup.controllers").exists())?;
    let mount = mount.as_path();
    let dir = join_mount(mount, &path);
    let controllers = fs::read_to_string(dir.join("cgroup.controllers")).ok()?;
    let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
    if !has("memory") || !has("cpu") || !writable(&dir) {
        return None;
    }
    let base = dir.join("schedlab");
    fs::create_dir_all(&base).ok()?;
    // v2 lets a cgroup pass controllers down only while it has no processes of its own
    // (the root excepted). If the agent sits in `dir`, it moves itself into a leaf first,
    // as container runtimes do with their `init` cgroup.
    let enable = |d: &Path| fs::write(d.join("cgroup.subtree_control"), "+memory +cpu");
    if enable(&dir).is_err() {
        let leaf = dir.join("schedlab-agent");
        fs::create_dir_all(&leaf).ok()?;
        fs::write(leaf.join("cgroup.procs"), std::process::id().to_string()).ok()?;
        enable(&dir).ok()?;
    }
    enable(&base).ok()?;
    Some(Cgroups {
        kind: Enforcement::CgroupV2,
        bases: vec![base],
    })
}

fn detect_v1(sys: &Path, own: &str) -> Option<Cgroups> {
    let memory_mount = sys.join("memory");
    if !memory_mount.join("memory.limit_in_bytes").exists() {
        return None;
    }
    let memory = join_mount(&memory_mount, &own_path(own, Some("memory"))?);
    if !writable(&memory) {
        return None;
    }
    let mut bases = vec![memory.join("schedlab")];
    // The cpu controller is optional: without it memory limits still hold.
    let cpu_mount = [sys.join("cpu"), sys.join("cpu,cpuacct")]
        .into_iter()
        .find(|m| m.join("cpu.cfs_quota_us").exists());
    if let (Some(mount), Some(path)) = (cpu_mount, own_path(own, Some("cpu"))) {
        let cpu = join_mount(&mount, &path);
        if writable(&cpu) {
            bases.push(cpu.join("schedlab"));
        }
    }
    for b in &bases {
        fs::create_dir_all(b).ok()?;
    }
    Some(Cgroups {
        kind: Enforcement::CgroupV1,
        bases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_path_reads_v1_and_v2_lines() {
        let text = "4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/d/e\n";
        assert_eq!(own_path(text, Some("memory")).as_deref(), Some("/a/b"));
        assert_eq!(own_path(text, Some("cpu")).as_deref(), Some("/c"));
        assert_eq!(own_path(text, None).as_deref(), Some("/d/e"));
        assert_eq!(own_path(text, Some("pids")), None);
    }

    /// A directory tree shaped as a cgroup file system: writes land in plain files, so
    /// this checks which files the runtime writes, not what a kernel does with them.
    struct FakeSys(PathBuf);

    impl FakeSys {
        fn new(name: &str) -> FakeSys {
            let dir = std::env::temp_dir().join(format!(
                "schedlab-fake-cgroup-{name}-{}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            FakeSys(dir)
        }

        fn file(&self, rel: &str, text: &str) {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }

        fn read(&self, rel: &str) -> String {
            fs::read_to_string(self.0.join(rel)).unwrap()
        }
    }

    impl Drop for FakeSys {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn v2_with_memory_and_cpu_delegated_writes_max_files() {
        let sys = FakeSys::new("v2");
        sys.file("cgroup.controllers", "cpuset cpu io memory pids\n");
        sys.file("agent.slice/cgroup.controllers", "cpu memory pids\n");
        sys.file("agent.slice/cgroup.subtree_control", "");
        let cg = Cgroups::detect_in(&sys.0, "0::/agent.slice\n").unwrap();
        assert_eq!(cg.kind(), Enforcement::CgroupV2);
        assert_eq!(
            sys.read("agent.slice/cgroup.subtree_control"),
            "+memory +cpu"
        );
        let c = cg
            .create("uid-1", "main", Some(64 << 20), Some(250))
            .unwrap();
        assert_eq!(c.dirs, [sys.0.join("agent.slice/schedlab/uid-1/main")]);
        let dir = "agent.slice/schedlab/uid-1";
        assert_eq!(
            sys.read(&format!("{dir}/cgroup.subtree_control")),
            "+memory +cpu"
        );
        assert_eq!(sys.read(&format!("{dir}/main/memory.max")), "67108864");
        assert_eq!(sys.read(&format!("{dir}/main/memory.swap.max")), "0");
        assert_eq!(sys.read(&format!("{dir}/main/cpu.max")), "25000 100000");
        assert_eq!(c.procs_files(), [sys.0.join(dir).join("main/cgroup.procs")]);
        sys.file(
            &format!("{dir}/main/memory.events"),
            "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n",
        );
        assert_eq!(c.oom_kills(), 2);
    }

    #[test]
    fn v2_without_the_memory_controller_falls_back_to_v1() {
        let sys = FakeSys::new("v1");
        // As on the development machine: an empty unified hierarchy beside v1's.
        sys.file("unified/cgroup.controllers", "");
        sys.file("memory/memory.limit_in_bytes", "9223372036854771712");
        sys.file("memory/job/memory.limit_in_bytes", "9223372036854771712");
        sys.file("cpu/cpu.cfs_quota_us", "-1");
        let own = "4:memory:/job\n1:cpu,cpuacct:/\n0::/\n";
        let cg = Cgroups::detect_in(&sys.0, own).unwrap();
        assert_eq!(cg.kind(), Enforcement::CgroupV1);
        let c = cg.create("u", "c", Some(1 << 30), Some(1500)).unwrap();
        assert_eq!(
            c.dirs,
            [
                sys.0.join("memory/job/schedlab/u/c"),
                sys.0.join("cpu/schedlab/u/c")
            ]
        );
        assert_eq!(
            sys.read("memory/job/schedlab/u/c/memory.limit_in_bytes"),
            "1073741824"
        );
        assert_eq!(sys.read("cpu/schedlab/u/c/cpu.cfs_quota_us"), "150000");
        assert_eq!(sys.read("cpu/schedlab/u/c/cpu.cfs_period_us"), "100000");
        sys.file(
            "memory/job/schedlab/u/c/memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        );
        assert_eq!(c.oom_kills(), 1);
        // Neither hierarchy: sampling.
        let none = FakeSys::new("none");
        none.file("unified/cgroup.controllers", "");
        assert!(Cgroups::detect_in(&none.0, own).is_none());
    }

    #[test]
    fn quota_is_milli_cpu_over_a_100ms_period() {
        // The kubelet's milliCPUToQuota: 500m -> 50000 us per 100000 us; minimum 1000.
        assert_eq!(quota(500), 50_000);
        assert_eq!(quota(2000), 200_000);
        assert_eq!(quota(1), 1000);
    }
}
