//! The rest of a pod's spec and its metadata: container limits and ports, the preemption
//! policy, object names, and the int-or-percent values of disruption budgets.

use std::collections::HashMap;

use crate::field_path;
use crate::pdb::IntOrPercent;
use crate::pod::{ContainerResources, HostPort, PreemptionPolicy, Protocol};
use crate::resources::{ResourceKind, ResourceNames};

use super::super::kube::RawContainerPort;
use super::super::message::{at_line, did_you_mean, quoted, shown};
use super::super::names::{dns_label_error, dns_subdomain_error};
use super::super::scalar::{Entries, QuantityMap, Scalar};
use super::super::{Location, Spanned};
use super::{Reader, Result};

/// The longest port name Kubernetes accepts (an IANA service name).
const MAX_PORT_NAME_LEN: usize = 15;

/// Why a port name is not an IANA service name, as Kubernetes requires (at most 15
/// lowercase letters, digits and inner single hyphens, with at least one letter).
fn port_name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("expected a name, got an empty string".to_owned());
    }
    if name.len() > MAX_PORT_NAME_LEN {
        return Some(format!("must be at most {MAX_PORT_NAME_LEN} characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("must contain only lowercase letters, digits and '-'".to_owned());
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Some("must contain at least one letter".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Some("must not begin or end with '-' or contain '--'".to_owned());
    }
    None
}

impl Reader<'_> {
    /// A `preemptionPolicy`: `PreemptLowerPriority` or `Never`.
    pub fn preemption_policy(&self, v: &Spanned<String>, field: &str) -> Result<PreemptionPolicy> {
        self.spelled::<PreemptionPolicy>(v, field, "preemption policy")
    }

    /// An object's `name` (a DNS subdomain) and `namespace` (a DNS label, `default` when
    /// absent); `kind` names the object in errors (`PodDisruptionBudget`).
    pub fn object_name(
        &self,
        name: &Spanned<String>,
        namespace: Option<&Spanned<String>>,
        base: &str,
        kind: &str,
    ) -> Result<(String, String)> {
        let name_field = format!("{base}.name");
        let value = self.non_empty(name, &name_field, &format!("a {kind} name"))?;
        if let Some(why) = dns_subdomain_error(&value) {
            return Err(self.err(
                &name.referenced,
                &name_field,
                format!("invalid {kind} name {}: {why}", quoted(&value)),
            ));
        }
        let namespace = match namespace {
            Some(ns) => {
                let field = format!("{base}.namespace");
                let ns_name = self.non_empty(ns, &field, "a namespace")?;
                if let Some(why) = dns_label_error(&ns_name) {
                    return Err(self.err(
                        &ns.referenced,
                        &field,
                        format!("invalid namespace name {}: {why}", quoted(&ns_name)),
                    ));
                }
                ns_name
            }
            None => "default".to_owned(),
        };
        Ok((value, namespace))
    }

    /// A non-negative integer or a percentage from `0%` to `100%` (a disruption budget's
    /// `minAvailable` or `maxUnavailable`).
    pub fn int_or_percent(&self, v: &Spanned<Scalar>, field: &str) -> Result<IntOrPercent> {
        let text = v.value.0.trim();
        if let Some(number) = text.strip_suffix('%') {
            return match number.parse::<i32>() {
                Ok(p) if (0..=100).contains(&p) && !number.starts_with('+') => {
                    Ok(IntOrPercent::Percent(p))
                }
                _ => Err(self.err(
                    &v.referenced,
                    field,
                    format!(
                        "expected a percentage from 0% to 100%, got {}",
                        shown(&v.value.0)
                    ),
                )),
            };
        }
        let n = self.integer(
            v,
            field,
            0,
            i32::MAX.into(),
            "a non-negative integer or a percentage such as \"50%\"",
        )?;
        Ok(IntOrPercent::Int(i32::try_from(n).unwrap_or(i32::MAX)))
    }

    /// A container's `requests` and `limits`, the resource lists below `base` (the
    /// container in a scenario, its `resources` in a manifest), with a request above its
    /// limit refused. `single` takes the single value out of a request, whatever the list
    /// holds (a reader may accept more there, to refuse it with a message of its own).
    pub fn container_resources<V, F>(
        &self,
        names: &mut ResourceNames,
        c: &mut ContainerResources,
        requests: Option<&Entries<Spanned<String>, Spanned<V>>>,
        limits: Option<&QuantityMap>,
        base: &str,
        single: F,
    ) -> Result<()>
    where
        F: Fn(&Spanned<V>, &str) -> Result<Spanned<Scalar>>,
    {
        let requests_base = format!("{base}.requests");
        for (key, value) in requests.map(|r| r.0.as_slice()).unwrap_or_default() {
            let field = field_path::key(&requests_base, &key.value);
            let kind = self.pod_resource_kind(names, key, &field)?;
            let v = single(value, &field)?;
            c.set_request(kind, self.quantity(kind, &v, &field)?);
        }
        if let Some(limits) = limits {
            self.set_limits(names, c, limits, &format!("{base}.limits"))?;
        }
        self.check_requests_within_limits(names, c, requests, &requests_base)
    }

    /// Sets a container's limits from a resource list.
    pub fn set_limits(
        &self,
        names: &mut ResourceNames,
        c: &mut ContainerResources,
        map: &QuantityMap,
        base: &str,
    ) -> Result<()> {
        for (kind, amount) in self.pod_quantities(names, map, base)? {
            c.set_limit(kind, amount);
        }
        Ok(())
    }

    /// Kubernetes rejects a request above its limit; so do we, at the request. `requests`
    /// is the container's request list as written, whatever its values are.
    pub fn check_requests_within_limits<V>(
        &self,
        names: &ResourceNames,
        c: &ContainerResources,
        requests: Option<&Entries<Spanned<String>, Spanned<V>>>,
        base: &str,
    ) -> Result<()> {
        for (key, value) in requests.map(|r| r.0.as_slice()).unwrap_or_default() {
            let Some(kind) = names.lookup(&key.value) else {
                continue;
            };
            if c.has_request(kind) && c.has_limit(kind) && c.requests.get(kind) > c.limits.get(kind)
            {
                return Err(self.err(
                    &value.referenced,
                    &field_path::key(base, &key.value),
                    format!("the request is larger than the limit ({}); a request must not exceed its limit", amount(kind, c.limits.get(kind))),
                ));
            }
        }
        Ok(())
    }

    /// A container's `restartPolicy`: true for an init container with `Always` (a
    /// sidecar). As Kubernetes validates it, `Always` is the one value an init container
    /// may give, and an app container gives none (it follows the pod's).
    pub fn container_restart_policy(
        &self,
        v: Option<&Spanned<String>>,
        field: &str,
        init: bool,
    ) -> Result<bool> {
        let Some(v) = v else { return Ok(false) };
        if !init {
            return Err(self.err(
                &v.referenced,
                field,
                "may not be set for non-init containers (an init container with \
                 `restartPolicy: Always` is a sidecar)",
            ));
        }
        if v.value != "Always" {
            return Err(self.err(
                &v.referenced,
                field,
                format!(
                    "Unsupported value: {}: supported values: \"Always\"{}",
                    quoted(&v.value),
                    did_you_mean(&v.value, &["Always"])
                ),
            ));
        }
        Ok(true)
    }

    /// A container's `ports`, as Kubernetes validates them; only the ports with a
    /// `hostPort` are kept, since only they concern the scheduler. `seen` maps the host
    /// ports of the containers before this one to where they are declared: a
    /// (hostPort, protocol, hostIP) may appear only once.
    pub fn ports(
        &self,
        list: &Spanned<Vec<Spanned<RawContainerPort>>>,
        base: &str,
        seen: &mut HashMap<HostPort, String>,
    ) -> Result<Vec<HostPort>> {
        let mut out = Vec::new();
        let mut names: HashMap<&str, String> = HashMap::new();
        for (i, item) in list.value.iter().enumerate() {
            let p_base = format!("{base}[{i}]");
            let raw = &item.value;
            let field = format!("{p_base}.containerPort");
            let Some(container_port) = &raw.container_port else {
                return Err(self.err(
                    &item.referenced,
                    &field,
                    "missing `containerPort`: expected a port number from 1 to 65535",
                ));
            };
            self.integer(container_port, &field, 1, 65535, "a port number")?;
            let port = match &raw.host_port {
                // 0 is Kubernetes' "no host port".
                Some(v) if v.value.0.trim() == "0" => 0,
                Some(v) => {
                    let n =
                        self.integer(v, &format!("{p_base}.hostPort"), 1, 65535, "a port number")?;
                    u16::try_from(n).unwrap_or(u16::MAX)
                }
                None => 0,
            };
            let protocol = match &raw.protocol {
                Some(v) => {
                    self.spelled::<Protocol>(v, &format!("{p_base}.protocol"), "protocol")?
                }
                None => Protocol::Tcp,
            };
            let host_ip = match &raw.host_ip {
                Some(v) if !v.value.is_empty() => {
                    if v.value.parse::<std::net::IpAddr>().is_err() {
                        return Err(self.err(
                            &v.referenced,
                            &format!("{p_base}.hostIP"),
                            format!(
                                "expected an IP address such as 0.0.0.0 or 10.0.0.1, got {}",
                                shown(&v.value)
                            ),
                        ));
                    }
                    v.value.clone()
                }
                _ => HostPort::ANY_IP.to_owned(),
            };
            if let Some(name) = &raw.name {
                let field = format!("{p_base}.name");
                if let Some(why) = port_name_error(&name.value) {
                    return Err(self.err(
                        &name.referenced,
                        &field,
                        format!("invalid port name {}: {why}", shown(&name.value)),
                    ));
                }
                if let Some(first) = names.get(name.value.as_str()) {
                    return Err(self.err(
                        &name.referenced,
                        &field,
                        format!(
                            "duplicate port name {:?}: {first} already uses it",
                            name.value
                        ),
                    ));
                }
                names.insert(
                    &name.value,
                    format!("{p_base}{}", at_line(&name.referenced)),
                );
            }
            if port == 0 {
                continue;
            }
            let host_port = HostPort {
                port,
                protocol,
                host_ip,
            };
            let at: Location = raw
                .host_port
                .as_ref()
                .map_or(item.referenced, |v| v.referenced);
            if let Some(first) = seen.get(&host_port) {
                return Err(self.err(
                    &at,
                    &format!("{p_base}.hostPort"),
                    format!(
                        "duplicate host port {port}/{protocol} on {}: {first} already binds it; a pod may bind a (hostPort, protocol, hostIP) only once",
                        host_port.host_ip
                    ),
                ));
            }
            seen.insert(host_port.clone(), format!("{p_base}{}", at_line(&at)));
            out.push(host_port);
        }
        Ok(out)
    }
}

/// An amount in the file's own notation, for messages.
fn amount(kind: ResourceKind, v: i64) -> String {
    match kind {
        ResourceKind::CPU => crate::quantity::format_cpu_millis(v),
        ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => crate::quantity::format_bytes(v),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_error, reader, value};
    use super::*;

    fn ports(text: &str) -> Result<Vec<HostPort>> {
        reader().ports(&value(text), "p", &mut HashMap::new())
    }

    #[test]
    fn only_host_ports_are_kept() {
        let got = ports(
            "[{containerPort: 80}, {containerPort: 81, hostPort: 0}, {containerPort: 53, hostPort: 5353, protocol: UDP, hostIP: 10.0.0.1, name: dns}]",
        )
        .unwrap();
        assert_eq!(
            got,
            [HostPort {
                port: 5353,
                protocol: Protocol::Udp,
                host_ip: "10.0.0.1".into(),
            }]
        );
        assert_eq!(
            ports("[{containerPort: 80, hostPort: 80}]").unwrap()[0].host_ip,
            HostPort::ANY_IP
        );
    }

    #[test]
    fn port_errors_are_located() {
        let e = ports("[{hostPort: 80}]").unwrap_err();
        assert_error(
            &e,
            1,
            2,
            "p[0].containerPort",
            "missing `containerPort`: expected a port number from 1 to 65535",
        );
        let e = ports("[{containerPort: 70000}]").unwrap_err();
        assert_error(
            &e,
            1,
            18,
            "p[0].containerPort",
            "expected a port number from 1 to 65535, got 70000",
        );
        let e = ports("[{containerPort: 1, protocol: tcp}]").unwrap_err();
        assert!(
            e.message
                .starts_with("unknown protocol \"tcp\" (did you mean TCP?)"),
            "{e}"
        );
        let e = ports("[{containerPort: 1, hostIP: here}]").unwrap_err();
        assert_error(
            &e,
            1,
            29,
            "p[0].hostIP",
            "expected an IP address such as 0.0.0.0 or 10.0.0.1, got here",
        );
        let e = ports("[{containerPort: 1, name: HTTP}]").unwrap_err();
        assert_error(
            &e,
            1,
            27,
            "p[0].name",
            "invalid port name HTTP: must contain only lowercase letters, digits and '-'",
        );
        let e = ports("[{containerPort: 1, hostPort: 80}, {containerPort: 2, hostPort: 80}]")
            .unwrap_err();
        assert_error(
            &e,
            1,
            65,
            "p[1].hostPort",
            "duplicate host port 80/TCP on 0.0.0.0: p[0] (line 1) already binds it; a pod may bind a (hostPort, protocol, hostIP) only once",
        );
    }

    #[test]
    fn names_and_budgets() {
        let r = reader();
        let name = value::<String>("web-pdb");
        let ns = value::<String>("team-a");
        assert_eq!(
            r.object_name(&name, Some(&ns), "b", "PodDisruptionBudget")
                .unwrap(),
            ("web-pdb".to_owned(), "team-a".to_owned())
        );
        assert_eq!(
            r.object_name(&name, None, "b", "PodGroup").unwrap().1,
            "default"
        );
        let e = r
            .object_name(&value("Web"), None, "b", "PodGroup")
            .unwrap_err();
        assert!(
            e.message.starts_with("invalid PodGroup name \"Web\": "),
            "{e}"
        );
        assert_eq!(e.field.as_deref(), Some("b.name"));
        assert_eq!(
            r.int_or_percent(&value("50%"), "m").unwrap(),
            IntOrPercent::Percent(50)
        );
        assert_eq!(
            r.int_or_percent(&value("3"), "m").unwrap(),
            IntOrPercent::Int(3)
        );
        let e = r.int_or_percent(&value("150%"), "m").unwrap_err();
        assert_error(
            &e,
            1,
            1,
            "m",
            "expected a percentage from 0% to 100%, got 150%",
        );
        let e = r.preemption_policy(&value("never"), "p").unwrap_err();
        assert_error(
            &e,
            1,
            1,
            "p",
            "unknown preemption policy \"never\" (did you mean Never?); expected PreemptLowerPriority or Never",
        );
    }

    #[test]
    fn container_resources_are_read_and_checked() {
        let r = reader();
        let mut names = ResourceNames::default();
        let single = |v: &Spanned<Scalar>, _: &str| Ok(v.clone());
        let requests = value::<QuantityMap>("{cpu: 500m, example.com/gpu: 1}");
        let limits = value::<QuantityMap>("{cpu: 1}");
        let mut c = ContainerResources::default();
        r.container_resources(
            &mut names,
            &mut c,
            Some(&requests.value),
            Some(&limits.value),
            "resources",
            single,
        )
        .unwrap();
        let gpu = names.lookup("example.com/gpu").unwrap();
        let mut want = ContainerResources::default();
        want.set_request(ResourceKind::CPU, 500);
        want.set_request(gpu, 1);
        want.set_limit(ResourceKind::CPU, 1000);
        assert_eq!(c, want);

        let requests = value::<QuantityMap>("{memory: 2Gi}");
        let limits = value::<QuantityMap>("{memory: 1536Mi}");
        let e = r
            .container_resources(
                &mut names,
                &mut ContainerResources::default(),
                Some(&requests.value),
                Some(&limits.value),
                "resources",
                single,
            )
            .unwrap_err();
        assert_error(
            &e,
            1,
            10,
            "resources.requests.memory",
            "the request is larger than the limit (1536Mi); a request must not exceed its limit",
        );
    }
}
