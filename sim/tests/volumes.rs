//! VolumeBinding and VolumeZone end to end: pods follow their data to its zone, and a
//! WaitForFirstConsumer claim gets a volume in the zone its first pod landed in.

use schedulers::volumes::ZONE_LABEL;
use schedulers::{ClusterState, PodPhase, Registry};
use sim::{Scenario, Simulation, parse_scenario};

const SCENARIO: &str = r#"
name: volumes
duration: 1m
startLatency: 0s
cluster:
  nodePools:
    - {name: a, count: 2, allocatable: {cpu: "4", memory: 8Gi}, labels: {topology.kubernetes.io/zone: zone-a}}
    - {name: b, count: 2, allocatable: {cpu: "4", memory: 8Gi}, labels: {topology.kubernetes.io/zone: zone-b}}
    - {name: c, count: 2, allocatable: {cpu: "4", memory: 8Gi}, labels: {topology.kubernetes.io/zone: zone-c}}
storageClasses:
  - name: zonal
    provisioner: pd.csi.storage.gke.io
    volumeBindingMode: WaitForFirstConsumer
    allowedTopologies:
      - matchLabelExpressions:
          - {key: topology.kubernetes.io/zone, values: [zone-a, zone-c]}
  - name: standard
persistentVolumes:
  - name: db-data
    labels: {topology.kubernetes.io/zone: zone-b}
    capacity: {storage: 100Gi}
    storageClassName: standard
    nodeAffinity:
      required:
        nodeSelectorTerms:
          - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [zone-b]}]
persistentVolumeClaims:
  - name: db-data
    storageClassName: standard
    resources: {requests: {storage: 50Gi}}
  - name: cache
    storageClassName: zonal
    resources: {requests: {storage: 10Gi}}
workloads:
  - deployment: db
    replicas: 1
    requests: {cpu: "1", memory: 1Gi}
    volumes: [{name: data, persistentVolumeClaim: {claimName: db-data}}]
  - deployment: cache
    replicas: 1
    at: 5s
    requests: {cpu: "1", memory: 1Gi}
    volumes: [{name: data, persistentVolumeClaim: {claimName: cache}}]
"#;

fn scenario() -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(SCENARIO, "volumes.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("valid")
}

/// The zone of the node the pod named `name` runs on.
fn zone_of(cluster: &ClusterState, name: &str) -> Option<String> {
    let (_, pod) = cluster.pods().find(|(_, p)| p.name().to_string() == name)?;
    assert_ne!(pod.phase, PodPhase::Pending, "{name} is still pending");
    let node = cluster.node(pod.node?);
    node.spec.labels.get(ZONE_LABEL).map(str::to_string)
}

#[test]
fn pods_follow_their_volumes() {
    let scenario = scenario();
    for seed in 1..=5 {
        let registry = Registry::builtin();
        let mut sim = Simulation::new(&scenario, registry.create("kube-default").unwrap(), seed);
        while sim.now().as_secs_f64() < 10.0 && sim.step() {}
        let cluster = sim.cluster();
        // The Immediate claim was bound to the zone-b volume at the start, and its pod went
        // to zone b.
        let volumes = cluster.volumes();
        assert_eq!(
            volumes
                .claim("default", "db-data")
                .unwrap()
                .bound_volume
                .as_deref(),
            Some("db-data")
        );
        assert_eq!(
            zone_of(cluster, "db-0").as_deref(),
            Some("zone-b"),
            "seed {seed}"
        );
        // The WaitForFirstConsumer claim's pod went to an allowed zone and the volume
        // provisioned for it sits in the same zone.
        let cache_zone = zone_of(cluster, "cache-0").expect("cache-0 is bound");
        assert!(
            ["zone-a", "zone-c"].contains(&cache_zone.as_str()),
            "seed {seed}"
        );
        let pv = volumes
            .claim("default", "cache")
            .unwrap()
            .bound_volume
            .clone()
            .expect("the claim was bound when its pod was");
        let pv = volumes.volume(&pv).unwrap();
        assert_eq!(pv.labels.get(ZONE_LABEL), Some(cache_zone.as_str()));
        assert_eq!(pv.storage_class, "zonal");
    }
}
