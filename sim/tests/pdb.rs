//! `podDisruptionBudgets:` in scenario files: what loads, and where bad budgets are
//! reported.

use schedulers::pdb::{Budget, IntOrPercent};
use schedulers::{LabelSelector, Labels, Registry, SelectorOperator, SelectorRequirement};
use sim::{ScenarioError, parse_scenario};

/// The built-in registry's check of a `schedulers:` entry, as hosts pass it.
fn is_known(
    spec: &schedulers::SchedulerSpec,
    profiles: &[(
        String,
        schedulers::framework::plugin_registry::ResolvedProfile,
    )],
) -> Result<String, schedulers::SpecError> {
    Registry::builtin().check(spec, profiles)
}

fn parse(text: &str) -> Result<sim::Scenario, ScenarioError> {
    parse_scenario(text, "pdb.yaml", &is_known)
}

#[track_caller]
fn assert_error(text: &str, line: u64, column: u64, field: &str, phrase: &str) {
    let e = match parse(text) {
        Ok(_) => panic!("loaded, but should have been rejected:\n{text}"),
        Err(e) => e,
    };
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(line), Some(column), Some(field)),
        "position and field of: {e}"
    );
    assert!(e.message.contains(phrase), "expected {phrase:?} in: {e}");
}

#[test]
fn budgets_load_in_file_order() {
    let s = parse(
        r#"
podDisruptionBudgets:
  - name: web
    selector: {matchLabels: {app: web}}
    minAvailable: 2
  - name: db
    namespace: data
    selector:
      matchExpressions:
        - {key: app, operator: In, values: [db]}
    maxUnavailable: "50%"
"#,
    )
    .unwrap();
    let pdbs = s.pdbs();
    assert_eq!(pdbs.len(), 2);
    assert_eq!(pdbs[0].name, "web");
    assert_eq!(pdbs[0].namespace, "default");
    assert_eq!(
        pdbs[0].selector,
        LabelSelector {
            match_labels: Labels::new([("app", "web")]),
            match_expressions: Vec::new(),
        }
    );
    assert_eq!(pdbs[0].budget, Budget::MinAvailable(IntOrPercent::Int(2)));
    assert_eq!(pdbs[1].namespace, "data");
    assert_eq!(
        pdbs[1].selector.match_expressions,
        [SelectorRequirement {
            key: "app".into(),
            operator: SelectorOperator::In,
            values: vec!["db".into()],
        }]
    );
    assert_eq!(
        pdbs[1].budget,
        Budget::MaxUnavailable(IntOrPercent::Percent(50))
    );
    assert!(parse("name: none\n").unwrap().pdbs().is_empty());
}

#[test]
fn exactly_one_of_min_available_and_max_unavailable() {
    assert_error(
        "podDisruptionBudgets:\n  - name: web\n    minAvailable: 1\n    maxUnavailable: 1\n",
        4,
        21,
        "podDisruptionBudgets[0].maxUnavailable",
        "cannot both be set",
    );
    assert_error(
        "podDisruptionBudgets:\n  - name: web\n    selector: {matchLabels: {app: web}}\n",
        2,
        5,
        "podDisruptionBudgets[0]",
        "expected one of minAvailable or maxUnavailable",
    );
}

#[test]
fn bad_values_are_located() {
    assert_error(
        "podDisruptionBudgets:\n  - name: web\n    minAvailable: \"150%\"\n",
        3,
        19,
        "podDisruptionBudgets[0].minAvailable",
        "percentage from 0% to 100%",
    );
    assert_error(
        "podDisruptionBudgets:\n  - name: web\n    maxUnavailable: -1\n",
        3,
        21,
        "podDisruptionBudgets[0].maxUnavailable",
        "non-negative integer",
    );
    assert_error(
        "podDisruptionBudgets:\n  - name: web\n    minAvailable: 1\n  - name: web\n    minAvailable: 2\n",
        4,
        11,
        "podDisruptionBudgets[1].name",
        "duplicate PodDisruptionBudget",
    );
}
