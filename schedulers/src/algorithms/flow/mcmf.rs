//! Min-cost max-flow by successive shortest paths (primal-dual), over a petgraph `Graph`.
//!
//! petgraph 0.8 has maximum flow (Ford-Fulkerson, Dinic) but no min-cost flow, so this
//! module adds one. The method is the textbook primal-dual one (Ahuja, Magnanti and Orlin,
//! "Network Flows", 1993, sections 9.7 and 9.8): keep node potentials `h` so that every
//! residual arc has a non-negative reduced cost `cost + h[u] - h[v]`; find shortest
//! distances from the source with Dijkstra over reduced costs; add them to the potentials;
//! then every shortest path is a path of zero reduced cost, and a Dinic-style blocking
//! flow pushes along all of them at once before the next Dijkstra. Augmenting only along
//! shortest paths keeps the flow of least cost for its value, so the result is a maximum
//! flow of minimum cost.
//!
//! Integer capacities and costs (`i64`); input arc costs must be non-negative (the zero
//! potentials are then valid at the start, so no Bellman-Ford pass is needed).
//!
//! Complexity: one phase is a Dijkstra, `O(E log V)`, plus blocking flows, `O(V E)` each
//! at worst; the number of phases is at most the number of distinct source-sink distances,
//! which is small when costs take few values (the scheduler's costs are `0..=100` plus an
//! unscheduled penalty), not the number of flow units.
//!
//! The graph keeps arcs in pairs: arc `2k` is the forward arc, `2k + 1` its residual
//! reverse, so the partner of edge `e` is `e ^ 1`. Every buffer is kept between solves;
//! [`MinCostFlow::clear`] empties the network without freeing memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::Direction::Outgoing;
use petgraph::graph::{EdgeIndex, Graph, NodeIndex};

/// One residual arc: how much more can flow along it, and at what cost per unit.
#[derive(Debug, Clone, Copy)]
struct Residual {
    cap: i64,
    cost: i64,
}

/// An arc added with [`MinCostFlow::add_arc`], to read its flow after solving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArcId(u32);

/// Unreachable distance.
const INF: i64 = i64::MAX;

/// A flow network and the min-cost max-flow solver's reusable buffers.
#[derive(Debug, Default)]
pub struct MinCostFlow {
    graph: Graph<(), Residual, petgraph::Directed, u32>,
    /// Node potentials (Johnson's reweighting).
    potential: Vec<i64>,
    /// Dijkstra distances in reduced costs.
    dist: Vec<i64>,
    /// BFS levels over zero-reduced-cost arcs, for the blocking flow.
    level: Vec<u32>,
    /// Dinic's current arc per node.
    current: Vec<Option<EdgeIndex<u32>>>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    queue: Vec<u32>,
}

impl MinCostFlow {
    /// An empty network.
    pub fn new() -> MinCostFlow {
        MinCostFlow::default()
    }

    /// Removes every node and arc, keeping the allocations for the next network.
    pub fn clear(&mut self) {
        self.graph.clear();
    }

    /// Adds a node; nodes are numbered from 0 in the order they are added.
    pub fn add_node(&mut self) -> u32 {
        self.graph.add_node(()).index() as u32
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Adds an arc `from -> to` carrying at most `cap` units at `cost` per unit.
    /// `cap` and `cost` must be non-negative.
    pub fn add_arc(&mut self, from: u32, to: u32, cap: i64, cost: i64) -> ArcId {
        debug_assert!(
            cap >= 0 && cost >= 0,
            "arc {from}->{to}: cap {cap} cost {cost}"
        );
        let (a, b) = (NodeIndex::new(from as usize), NodeIndex::new(to as usize));
        let e = self.graph.add_edge(a, b, Residual { cap, cost });
        self.graph.add_edge(
            b,
            a,
            Residual {
                cap: 0,
                cost: -cost,
            },
        );
        ArcId(e.index() as u32)
    }

    /// Units flowing along an arc after [`MinCostFlow::solve`].
    pub fn flow(&self, arc: ArcId) -> i64 {
        self.graph[EdgeIndex::new(arc.0 as usize ^ 1)].cap
    }

    /// Sends as much flow as possible from `source` to `sink` at the least total cost;
    /// returns `(flow, cost)`. Call it once per network (then [`MinCostFlow::clear`]):
    /// it starts from zero potentials, which suit only a network without flow.
    pub fn solve(&mut self, source: u32, sink: u32) -> (i64, i64) {
        let n = self.graph.node_count();
        self.potential.clear();
        self.potential.resize(n, 0);
        let (mut flow, mut cost) = (0i64, 0i64);
        if source == sink || n == 0 {
            return (0, 0);
        }
        while self.dijkstra(source, sink) {
            // Shortest distances become part of the potentials: every arc on a shortest
            // path now has reduced cost zero, and none has a negative one. Nodes not
            // reached keep theirs: they can never be reached again, since augmenting
            // only adds reverse arcs between reached nodes.
            for v in 0..n {
                if self.dist[v] != INF {
                    self.potential[v] += self.dist[v];
                }
            }
            let path_cost = self.potential[sink as usize] - self.potential[source as usize];
            while self.levels(source, sink) {
                self.current.clear();
                self.current
                    .extend((0..n).map(|v| self.graph.first_edge(NodeIndex::new(v), Outgoing)));
                loop {
                    let pushed = self.push(source, sink, INF);
                    if pushed == 0 {
                        break;
                    }
                    flow += pushed;
                    cost += pushed * path_cost;
                }
            }
        }
        (flow, cost)
    }

    /// The reduced cost of a residual arc.
    #[inline]
    fn reduced(&self, e: EdgeIndex<u32>) -> i64 {
        let (u, v) = self.graph.edge_endpoints(e).expect("edge exists");
        self.graph[e].cost + self.potential[u.index()] - self.potential[v.index()]
    }

    /// Shortest distances in reduced costs from `source`; true when `sink` is reached.
    fn dijkstra(&mut self, source: u32, sink: u32) -> bool {
        let n = self.graph.node_count();
        self.dist.clear();
        self.dist.resize(n, INF);
        self.heap.clear();
        self.dist[source as usize] = 0;
        self.heap.push(Reverse((0, source)));
        while let Some(Reverse((d, u))) = self.heap.pop() {
            if d > self.dist[u as usize] {
                continue;
            }
            let mut next = self.graph.first_edge(NodeIndex::new(u as usize), Outgoing);
            while let Some(e) = next {
                next = self.graph.next_edge(e, Outgoing);
                let arc = self.graph[e];
                if arc.cap <= 0 {
                    continue;
                }
                let v = self.graph.edge_endpoints(e).expect("edge exists").1.index();
                let nd = d + arc.cost + self.potential[u as usize] - self.potential[v];
                if nd < self.dist[v] {
                    self.dist[v] = nd;
                    self.heap.push(Reverse((nd, v as u32)));
                }
            }
        }
        self.dist[sink as usize] != INF
    }

    /// BFS levels over arcs with residual capacity and zero reduced cost; true when the
    /// sink is reached.
    fn levels(&mut self, source: u32, sink: u32) -> bool {
        let n = self.graph.node_count();
        self.level.clear();
        self.level.resize(n, u32::MAX);
        self.queue.clear();
        self.level[source as usize] = 0;
        self.queue.push(source);
        let mut head = 0;
        while head < self.queue.len() {
            let u = self.queue[head];
            head += 1;
            let mut next = self.graph.first_edge(NodeIndex::new(u as usize), Outgoing);
            while let Some(e) = next {
                next = self.graph.next_edge(e, Outgoing);
                if self.graph[e].cap <= 0 || self.reduced(e) != 0 {
                    continue;
                }
                let v = self.graph.edge_endpoints(e).expect("edge exists").1.index();
                if self.level[v] == u32::MAX {
                    self.level[v] = self.level[u as usize] + 1;
                    self.queue.push(v as u32);
                }
            }
        }
        self.level[sink as usize] != u32::MAX
    }

    /// One augmenting path of the blocking flow, depth first along the levels; returns
    /// the units pushed (0 when none is left).
    fn push(&mut self, u: u32, sink: u32, limit: i64) -> i64 {
        if u == sink {
            return limit;
        }
        while let Some(e) = self.current[u as usize] {
            let arc = self.graph[e];
            let v = self.graph.edge_endpoints(e).expect("edge exists").1.index();
            if arc.cap > 0 && self.level[v] == self.level[u as usize] + 1 && self.reduced(e) == 0 {
                let pushed = self.push(v as u32, sink, limit.min(arc.cap));
                if pushed > 0 {
                    self.graph[e].cap -= pushed;
                    self.graph[EdgeIndex::new(e.index() ^ 1)].cap += pushed;
                    return pushed;
                }
            }
            self.current[u as usize] = self.graph.next_edge(e, Outgoing);
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// A network as plain arcs `(from, to, cap, cost)`, for the brute force.
    type Arcs = Vec<(u32, u32, i64, i64)>;

    /// The least cost of a maximum flow, found by enumerating every integral flow on the
    /// arcs (each arc from 0 to its capacity) and keeping those that conserve flow.
    fn brute_force(n: u32, arcs: &Arcs, s: u32, t: u32) -> (i64, i64) {
        let mut best = (0i64, 0i64); // (flow, -cost) maximized lexicographically
        let mut x = vec![0i64; arcs.len()];
        loop {
            let mut balance = vec![0i64; n as usize];
            for (k, &(a, b, _, _)) in arcs.iter().enumerate() {
                balance[a as usize] -= x[k];
                balance[b as usize] += x[k];
            }
            let conserved = (0..n)
                .filter(|&v| v != s && v != t)
                .all(|v| balance[v as usize] == 0);
            if conserved {
                let value = balance[t as usize];
                let cost: i64 = arcs.iter().zip(&x).map(|(a, f)| a.3 * f).sum();
                if (value, -cost) > best {
                    best = (value, -cost);
                }
            }
            // Next assignment, odometer style.
            let mut k = 0;
            loop {
                if k == arcs.len() {
                    return (best.0, -best.1);
                }
                if x[k] < arcs[k].2 {
                    x[k] += 1;
                    break;
                }
                x[k] = 0;
                k += 1;
            }
        }
    }

    fn solve(n: u32, arcs: &Arcs, s: u32, t: u32) -> (i64, i64, MinCostFlow, Vec<ArcId>) {
        let mut f = MinCostFlow::new();
        for _ in 0..n {
            f.add_node();
        }
        let ids: Vec<ArcId> = arcs
            .iter()
            .map(|&(a, b, c, w)| f.add_arc(a, b, c, w))
            .collect();
        let (flow, cost) = f.solve(s, t);
        (flow, cost, f, ids)
    }

    #[test]
    fn takes_the_cheaper_of_two_paths_then_the_dearer() {
        // 0 -> 1 -> 3 costs 1 + 1, 0 -> 2 -> 3 costs 5 + 0; the middle arc 1 -> 2 lets a
        // second unit reach 3 through 2 only.
        let arcs = vec![
            (0, 1, 2, 1),
            (1, 3, 1, 1),
            (0, 2, 1, 5),
            (2, 3, 2, 0),
            (1, 2, 1, 1),
        ];
        let (flow, cost, f, ids) = solve(4, &arcs, 0, 3);
        // Max flow 3: 0-1-3 (2), 0-1-2-3 (2), 0-2-3 (5).
        assert_eq!((flow, cost), (3, 9));
        let flows: Vec<i64> = ids.iter().map(|&a| f.flow(a)).collect();
        assert_eq!(flows, vec![2, 1, 1, 2, 1]);
    }

    #[test]
    fn cancels_flow_along_a_reverse_arc() {
        // The classic case where the first shortest path must be partly undone: the
        // cheapest path 0-1-2-3 blocks both disjoint paths 0-1-3 and 0-2-3.
        let arcs = vec![
            (0, 1, 1, 0),
            (1, 2, 1, 0),
            (2, 3, 1, 0),
            (1, 3, 1, 10),
            (0, 2, 1, 10),
        ];
        let (flow, cost, f, ids) = solve(4, &arcs, 0, 3);
        assert_eq!((flow, cost), (2, 20));
        assert_eq!(f.flow(ids[1]), 0, "the middle arc is cancelled");
    }

    #[test]
    fn nothing_flows_without_a_path() {
        let (flow, cost, _, _) = solve(3, &vec![(0, 1, 5, 1)], 0, 2);
        assert_eq!((flow, cost), (0, 0));
    }

    /// Random networks of up to 5 nodes and 6 arcs with capacities up to 3: the solver's
    /// flow value and cost equal the best found by enumerating every integral flow, and
    /// the flow it reports conserves at every inner node and respects capacities.
    #[test]
    fn matches_brute_force_on_random_small_networks() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        for case in 0..400 {
            let n = rng.random_range(2..=5u32);
            let m = rng.random_range(1..=6usize);
            let arcs: Arcs = (0..m)
                .map(|_| {
                    let a = rng.random_range(0..n);
                    let mut b = rng.random_range(0..n - 1);
                    if b >= a {
                        b += 1;
                    }
                    (a, b, rng.random_range(0..=3), rng.random_range(0..=9))
                })
                .collect();
            let (s, t) = (0, n - 1);
            let (flow, cost, f, ids) = solve(n, &arcs, s, t);
            assert_eq!(
                (flow, cost),
                brute_force(n, &arcs, s, t),
                "case {case}: {arcs:?}"
            );
            let mut balance = vec![0i64; n as usize];
            let mut total = 0;
            for (&(a, b, cap, w), &id) in arcs.iter().zip(&ids) {
                let x = f.flow(id);
                assert!((0..=cap).contains(&x), "case {case}");
                balance[a as usize] -= x;
                balance[b as usize] += x;
                total += x * w;
            }
            assert_eq!(total, cost, "case {case}");
            assert_eq!(balance[t as usize], flow, "case {case}");
            for v in 1..n - 1 {
                assert_eq!(balance[v as usize], 0, "case {case}");
            }
        }
    }

    #[test]
    fn clear_reuses_the_solver() {
        let mut f = MinCostFlow::new();
        for _ in 0..2 {
            f.clear();
            let (a, b) = (f.add_node(), f.add_node());
            let arc = f.add_arc(a, b, 4, 3);
            assert_eq!(f.solve(a, b), (4, 12));
            assert_eq!(f.flow(arc), 4);
            assert_eq!(f.node_count(), 2);
        }
    }
}
