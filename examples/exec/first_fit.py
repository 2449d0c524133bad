#!/usr/bin/env python3
"""First-fit as an external schedlab scheduler (protocol schedlab-exec/1).

Run it with:

    schedlab run scenarios/tutorial.yaml --scheduler exec:examples/exec/first_fit.py

schedlab starts this program once per run and talks to it line by line: every line it
writes to our stdin is one JSON message, and we answer each with exactly one JSON line on
stdout. The full protocol is in docs/exec-protocol.md. Python 3 standard library only.

First-fit (Johnson, 1973): for each pending pod, in the order schedlab gives them, take
the first node (in node id order) that passes every filter. The filters are the ones
schedlab's built-in `first-fit` applies, in kube-scheduler's order, so both make exactly
the same placements and report the same reasons:

  1. NodeUnschedulable: a cordoned node, unless the pod tolerates the cordon taint;
  2. NodeName: the pod asks for another node by name;
  3. TaintToleration: a NoSchedule/NoExecute taint the pod does not tolerate;
  4. NodeAffinity: nodeSelector or required node affinity do not match;
  5. NodeResourcesFit: not enough free cpu, memory, pods, ... for the pod's requests.

Never print anything else to stdout: schedlab would read it as an answer. Debug output
goes to stderr (schedlab quotes the end of it if the program fails).
"""

import json
import sys

PROTOCOL = "schedlab-exec/1"

# The taint Kubernetes puts on cordoned nodes; tolerating it lets a pod onto them.
CORDON_TAINT = {"key": "node.kubernetes.io/unschedulable", "value": "", "effect": "NoSchedule"}


def tolerates(toleration, taint):
    """True when one toleration tolerates one taint (Kubernetes' matching rules)."""
    if toleration["effect"] is not None and toleration["effect"] != taint["effect"]:
        return False
    if toleration["key"] != "" and toleration["key"] != taint["key"]:
        return False
    if toleration["operator"] == "Exists":
        return True
    return toleration["value"] == taint["value"]


def requirement_matches(req, labels):
    """One `key operator values` requirement of a node selector term."""
    value = labels.get(req["key"])
    op, values = req["operator"], req["values"]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    # Gt and Lt compare integers; anything unparsable does not match.
    try:
        v, bound = int(value), int(values[0])
    except (TypeError, ValueError, IndexError):
        return False
    return v > bound if op == "Gt" else v < bound


def term_matches(term, node):
    """A node selector term: all its requirements hold (an empty term matches nothing)."""
    if not term["match_expressions"] and not term["match_fields"]:
        return False
    fields = {"metadata.name": node["name"]}
    return all(requirement_matches(r, node["labels"]) for r in term["match_expressions"]) and all(
        r["key"] == "metadata.name" and requirement_matches(r, fields)
        for r in term["match_fields"]
    )


def constraint_rejection(pod, node):
    """The first non-resource filter that rejects the node, as kube-scheduler words it,
    or None when the node passes them all."""
    tolerations = pod["tolerations"]
    if node["unschedulable"] and not any(tolerates(t, CORDON_TAINT) for t in tolerations):
        return "node(s) were unschedulable"
    if pod["node_name"] is not None and pod["node_name"] != node["name"]:
        return "node(s) didn't match the requested node name"
    for taint in node["taints"]:
        if taint["effect"] != "PreferNoSchedule" and not any(
            tolerates(t, taint) for t in tolerations
        ):
            return "node(s) had untolerated taint(s)"
    selector_ok = all(node["labels"].get(k) == v for k, v in pod["node_selector"].items())
    affinity = pod["node_affinity"]
    affinity_ok = affinity is None or any(term_matches(t, node) for t in affinity)
    if not (selector_ok and affinity_ok):
        return "node(s) didn't match Pod's node affinity/selector"
    return None


def insufficient(pod, node):
    """The resources the node lacks for the pod, in kube-scheduler's wording."""
    missing = []
    for resource, amount in pod["requests"].items():
        if amount > node["free"].get(resource, 0):
            missing.append("Too many pods" if resource == "pods" else "Insufficient " + resource)
    return missing


def schedule(nodes, pending):
    """Decides every pending pod, first-fit, updating `nodes` as pods are placed."""
    order = sorted(nodes.values(), key=lambda n: n["id"])
    decisions = []
    for pod in pending:
        reasons = {}
        chosen = None
        for node in order:
            rejection = constraint_rejection(pod, node)
            failed = [rejection] if rejection is not None else insufficient(pod, node)
            if not failed:
                chosen = node
                break
            for reason in failed:
                reasons[reason] = reasons.get(reason, 0) + 1
        if chosen is None:
            decisions.append({"pod": pod["name"], "unschedulable": reasons})
            continue
        # Take the resources now, so the next pods of this cycle see them gone (schedlab
        # will send the node again next cycle with its real figures anyway).
        for resource, amount in pod["requests"].items():
            chosen["free"][resource] = chosen["free"].get(resource, 0) - amount
        decisions.append({"pod": pod["name"], "node": chosen["name"]})
    return decisions


def send(message):
    """Writes one message as one line and flushes, so schedlab sees it at once."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    nodes = {}  # every node we know, by name
    for line in sys.stdin:
        message = json.loads(line)
        if message["type"] == "hello":
            send({"type": "hello", "protocol": PROTOCOL, "name": "first_fit.py"})
        elif message["type"] == "cycle":
            if message["full"]:
                nodes.clear()
            # Nodes listed are new or changed: replace what we had. Removed nodes go.
            for node in message["nodes"]:
                nodes[node["name"]] = node
            for name in message["removed"]:
                nodes.pop(name, None)
            decisions = schedule(nodes, message["pending"])
            send({"type": "decisions", "seq": message["seq"], "decisions": decisions})
        else:
            # schedlab-exec/1 has only these two messages; anything else means a mix-up.
            sys.exit("first_fit.py: unknown message type " + repr(message["type"]))
    # schedlab closed our stdin: the run is over.


if __name__ == "__main__":
    main()
