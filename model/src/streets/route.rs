//! Shortest ways along the network between two places (a segment and an offset along it),
//! bounded by a distance limit: Dijkstra over the junction nodes. Map matching asks how far
//! apart two candidate places are along the streets; coverage asks which pieces a walker passed
//! between two fixes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::streets::StreetNetwork;

/// A place on the network: a segment (index) and a distance along it in projected metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub segment: usize,
    pub offset_m: f64,
}

/// A stretch of one segment passed along a route, from `from_m` to `to_m` (either order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutePiece {
    pub segment: usize,
    pub from_m: f64,
    pub to_m: f64,
}

#[derive(Debug, Clone, Copy)]
struct Pred {
    /// The previous node, or `u32::MAX` when this node was reached from the start place.
    prev: u32,
    piece: RoutePiece,
}

/// Reusable working memory for route searches, so matching a day-long track does not allocate
/// per fix.
#[derive(Debug, Default, Clone)]
pub struct RouteScratch {
    dist: Vec<f64>,
    pred: Vec<Option<Pred>>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl RouteScratch {
    fn reset(&mut self, nodes: usize) {
        if self.dist.len() != nodes {
            self.dist = vec![f64::INFINITY; nodes];
            self.pred = vec![None; nodes];
        } else {
            for &n in &self.touched {
                self.dist[n as usize] = f64::INFINITY;
                self.pred[n as usize] = None;
            }
        }
        self.touched.clear();
        self.heap.clear();
    }

    fn relax(&mut self, node: u32, cost: f64, pred: Pred) {
        if cost < self.dist[node as usize] {
            if self.dist[node as usize].is_infinite() {
                self.touched.push(node);
            }
            self.dist[node as usize] = cost;
            self.pred[node as usize] = Some(pred);
            // Non-negative floats order like their bit patterns.
            self.heap.push(Reverse((cost.to_bits(), node)));
        }
    }
}

impl StreetNetwork {
    /// The length of the shortest way from `from` to `to` along the network, if it is at most
    /// `limit_m` (projected metres).
    pub fn route_distance_m(
        &self,
        from: Place,
        to: Place,
        limit_m: f64,
        scratch: &mut RouteScratch,
    ) -> Option<f64> {
        self.search(from, to, limit_m, scratch, false)
            .map(|(d, _)| d)
    }

    /// The shortest way from `from` to `to` within `limit_m`, as the pieces of segments passed.
    pub fn route(
        &self,
        from: Place,
        to: Place,
        limit_m: f64,
        scratch: &mut RouteScratch,
    ) -> Option<(f64, Vec<RoutePiece>)> {
        self.search(from, to, limit_m, scratch, true)
    }

    fn search(
        &self,
        from: Place,
        to: Place,
        limit_m: f64,
        scratch: &mut RouteScratch,
        want_path: bool,
    ) -> Option<(f64, Vec<RoutePiece>)> {
        if from.segment == to.segment {
            let d = (from.offset_m - to.offset_m).abs();
            let path = if want_path {
                vec![RoutePiece {
                    segment: from.segment,
                    from_m: from.offset_m,
                    to_m: to.offset_m,
                }]
            } else {
                Vec::new()
            };
            return (d <= limit_m).then_some((d, path));
        }
        let (a, b) = (&self.segments[from.segment], &self.segments[to.segment]);
        // Segments that meet directly: the way is through the nearest shared junction.
        let mut direct: Option<(f64, f64, f64)> = None;
        for ja in &a.junctions {
            for jb in &b.junctions {
                if ja.node == jb.node {
                    let d = (from.offset_m - ja.offset_m).abs() + (jb.offset_m - to.offset_m).abs();
                    if direct.is_none_or(|(best, _, _)| d < best) {
                        direct = Some((d, ja.offset_m, jb.offset_m));
                    }
                }
            }
        }
        if let Some((d, oa, ob)) = direct {
            if d > limit_m {
                return None;
            }
            let path = if want_path {
                vec![
                    RoutePiece {
                        segment: from.segment,
                        from_m: from.offset_m,
                        to_m: oa,
                    },
                    RoutePiece {
                        segment: to.segment,
                        from_m: ob,
                        to_m: to.offset_m,
                    },
                ]
            } else {
                Vec::new()
            };
            return Some((d, path));
        }

        scratch.reset(self.nodes.len());
        for j in &a.junctions {
            let c = (from.offset_m - j.offset_m).abs();
            if c <= limit_m {
                let piece = RoutePiece {
                    segment: from.segment,
                    from_m: from.offset_m,
                    to_m: j.offset_m,
                };
                scratch.relax(
                    j.node,
                    c,
                    Pred {
                        prev: u32::MAX,
                        piece,
                    },
                );
            }
        }
        let mut best: Option<(f64, u32, f64)> = None;
        while let Some(Reverse((bits, n))) = scratch.heap.pop() {
            let c = f64::from_bits(bits);
            if c > scratch.dist[n as usize] {
                continue;
            }
            if c > limit_m || best.is_some_and(|(t, _, _)| c >= t) {
                break;
            }
            for &(s, ji) in &self.nodes[n as usize] {
                let seg = &self.segments[s as usize];
                let off = seg.junctions[ji as usize].offset_m;
                if s as usize == to.segment {
                    let t = c + (off - to.offset_m).abs();
                    if t <= limit_m && best.is_none_or(|(bt, _, _)| t < bt) {
                        best = Some((t, n, off));
                    }
                }
                let ji = ji as usize;
                for nj in [ji.wrapping_sub(1), ji + 1] {
                    let Some(m) = seg.junctions.get(nj) else {
                        continue;
                    };
                    let nc = c + (off - m.offset_m).abs();
                    if nc <= limit_m {
                        let piece = RoutePiece {
                            segment: s as usize,
                            from_m: off,
                            to_m: m.offset_m,
                        };
                        scratch.relax(m.node, nc, Pred { prev: n, piece });
                    }
                }
            }
        }
        let (total, end, end_off) = best?;
        let mut path = Vec::new();
        if want_path {
            path.push(RoutePiece {
                segment: to.segment,
                from_m: end_off,
                to_m: to.offset_m,
            });
            let mut n = end;
            while let Some(p) = scratch.pred[n as usize] {
                path.push(p.piece);
                if p.prev == u32::MAX {
                    break;
                }
                n = p.prev;
            }
            path.reverse();
        }
        Some((total, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SegmentId, StreetId};
    use crate::streets::{Segment, Street};

    /// Three segments in a row west to east (~85 m each at 39.9 N), plus a spur north from the
    /// middle of the second one, and a separate parallel segment 30 m north of the first.
    fn network() -> StreetNetwork {
        let street = Street {
            id: StreetId::new(),
            name: Some("a".into()),
            subdistrict: None,
            class: "residential".into(),
            length_m: 0.0,
        };
        let seg = |pts: Vec<(f64, f64)>, ordinal| Segment {
            id: SegmentId::new(),
            street_id: street.id,
            ordinal,
            points: pts,
            length_m: 85.0,
        };
        let segments = vec![
            seg(vec![(39.9, 116.200), (39.9, 116.201)], 0),
            seg(vec![(39.9, 116.201), (39.9, 116.2015), (39.9, 116.202)], 1),
            seg(vec![(39.9, 116.202), (39.9, 116.203)], 2),
            seg(vec![(39.9, 116.2015), (39.9009, 116.2015)], 3),
            seg(vec![(39.90027, 116.200), (39.90027, 116.201)], 4),
        ];
        StreetNetwork::new(vec![street], segments)
    }

    #[test]
    fn routes_through_junctions_and_interior_nodes() {
        let net = network();
        let mut s = RouteScratch::default();
        let len0 = net.segments[0].projected_length_m();
        // Same segment.
        let d = net.route_distance_m(
            Place {
                segment: 0,
                offset_m: 10.0,
            },
            Place {
                segment: 0,
                offset_m: 50.0,
            },
            100.0,
            &mut s,
        );
        assert_eq!(d, Some(40.0));
        // Adjacent through the shared end.
        let (d, path) = net
            .route(
                Place {
                    segment: 0,
                    offset_m: 70.0,
                },
                Place {
                    segment: 1,
                    offset_m: 5.0,
                },
                100.0,
                &mut s,
            )
            .unwrap();
        assert!((d - (len0 - 70.0 + 5.0)).abs() < 1e-6, "{d}");
        assert_eq!(path.len(), 2);
        // From segment 0 to segment 2 passes all of segment 1.
        let (d, path) = net
            .route(
                Place {
                    segment: 0,
                    offset_m: 80.0,
                },
                Place {
                    segment: 2,
                    offset_m: 10.0,
                },
                500.0,
                &mut s,
            )
            .unwrap();
        let len1 = net.segments[1].projected_length_m();
        assert!((d - (len0 - 80.0 + len1 + 10.0)).abs() < 1e-6, "{d}");
        let mut passed: Vec<usize> = path.iter().map(|p| p.segment).collect();
        passed.dedup();
        assert_eq!(
            passed,
            vec![0, 1, 2],
            "segment 1 in two pieces, split at the spur's junction"
        );
        let covered: f64 = path.iter().map(|p| (p.to_m - p.from_m).abs()).sum();
        assert!((covered - d).abs() < 1e-6);
        // The spur meets segment 1 in its middle.
        let d = net
            .route_distance_m(
                Place {
                    segment: 0,
                    offset_m: 0.0,
                },
                Place {
                    segment: 3,
                    offset_m: 10.0,
                },
                500.0,
                &mut s,
            )
            .unwrap();
        assert!((d - (len0 + len1 / 2.0 + 10.0)).abs() < 0.01, "{d}");
        // The parallel segment is not connected at all; beyond the limit nothing is found.
        assert_eq!(
            net.route_distance_m(
                Place {
                    segment: 0,
                    offset_m: 10.0
                },
                Place {
                    segment: 4,
                    offset_m: 10.0
                },
                5_000.0,
                &mut s
            ),
            None
        );
        assert_eq!(
            net.route_distance_m(
                Place {
                    segment: 0,
                    offset_m: 0.0
                },
                Place {
                    segment: 2,
                    offset_m: 80.0
                },
                100.0,
                &mut s
            ),
            None
        );
    }
}
