//! `patrol demo`: the main job. A small synthetic neighbourhood in 八角 subdistrict loaded as a
//! street network and assigned to the chief, a patrol with realistic GPS noise (drift, multipath
//! spikes, a stop to talk to a merchant, a signboard scanned on the way), recorded fix by fix
//! through the same API a phone uses, and what the chief sees: the walk and the coverage of
//! each assigned street.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use patrol_core::sim::{ReceiverModel, SimRng, route_length_m, simulate_walk};
use patrol_core::track::Motion;
use patrol_core::track::export::{ExportFixes, track_geojson};
use patrol_core::streets::StreetImportOptions;
use patrol_core::{Role, Store, StoreConfig, StreetId};
use serde_json::json;

use crate::output::{Context, duration, metres};

#[derive(Args)]
pub struct DemoArgs {
    /// Seed of the simulated GPS noise (the same seed gives the same patrol).
    #[arg(long, default_value_t = 2018)]
    seed: u64,
    /// Also write the recorded track as GeoJSON here (open it in QGIS or geojson.io).
    #[arg(long)]
    geojson: Option<PathBuf>,
}

/// The neighbourhood: streets as (name, polyline of (lat, lon)), around the 八角 pilot streets.
pub fn neighbourhood() -> Vec<(&'static str, Vec<(f64, f64)>)> {
    vec![
        ("八角西街", vec![(39.9040, 116.1935), (39.9075, 116.1936), (39.9110, 116.1937)]),
        ("八角北路", vec![(39.9110, 116.1937), (39.9111, 116.1975), (39.9112, 116.2010)]),
        ("杨庄东街", vec![(39.9040, 116.1935), (39.9041, 116.1972), (39.9042, 116.2010)]),
        ("古城小巷", vec![(39.9112, 116.2010), (39.9077, 116.2010), (39.9042, 116.2010)]),
        // Assigned too, but the walk below does not go there: the coverage shows it.
        ("杨庄北巷", vec![(39.9075, 116.1936), (39.9076, 116.1975)]),
    ]
}

/// The neighbourhood as a GeoJSON street file, the way a supervisor would import it.
fn neighbourhood_geojson(streets: &[(&str, Vec<(f64, f64)>)]) -> Vec<u8> {
    let features: Vec<_> = streets
        .iter()
        .map(|(name, line)| {
            let coordinates: Vec<_> = line.iter().map(|(lat, lon)| json!([lon, lat])).collect();
            json!({
                "type": "Feature",
                "properties": { "name": name, "subdistrict": "八角", "highway": "residential" },
                "geometry": { "type": "LineString", "coordinates": coordinates },
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features }).to_string().into_bytes()
}

/// The chief's walk: up 八角西街, along 八角北路, down the alley, back along 杨庄东街.
fn patrol_route(streets: &[(&str, Vec<(f64, f64)>)]) -> Vec<(f64, f64)> {
    let mut route = streets[0].1.clone();
    route.extend(streets[1].1.iter().skip(1));
    route.extend(streets[3].1.iter().skip(1));
    route.extend(streets[2].1.iter().rev().skip(1));
    route
}

pub fn run(ctx: &Context, args: DemoArgs) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let path = match &ctx.db {
        Some(p) => p.clone(),
        None => scratch.path().join("demo.db"),
    };
    let mut store = Store::open(&path, StoreConfig::default())?;
    let me = match store.device()? {
        Some(me) => me,
        None => store.init_device("王芳", Role::Chief, None)?,
    };

    let streets = neighbourhood();
    let route = patrol_route(&streets);
    let street_names: Vec<String> = streets.iter().map(|(n, _)| n.to_string()).collect();
    // The supervisor's side: the street network, assigned to this chief, and a signboard.
    let network = store.import_streets_file(
        std::path::Path::new("八角.geojson"),
        &neighbourhood_geojson(&streets),
        &StreetImportOptions { subdistrict: Some("八角".into()), ..Default::default() },
    )?;
    let mut street_ids: Vec<StreetId> = Vec::new();
    for name in &street_names {
        let id = store.resolve_street(name)?;
        store.assign_street(id, &me.user_id.to_string(), Role::Chief)?;
        street_ids.push(id);
    }
    let board = match store.signboards_of(street_ids[0])?.into_iter().next() {
        Some(b) => b,
        None => store.issue_signboard(street_ids[0], Some((39.9075, 116.1937)))?,
    };
    let start_ms = 1_733_040_000_000; // 2024-12-01 08:00 UTC (16:00 in Beijing)
    let mut rng = SimRng::new(args.seed);
    let receiver = ReceiverModel { error_sigma_m: 6.0, spike_probability: 0.01, ..Default::default() };
    // Three minutes with a merchant two-thirds of the way round.
    let walk = simulate_walk(&route, 1.3, start_ms, &receiver, Some((0.66, 180.0)), &mut rng);

    let planned: Vec<String> = street_ids.iter().map(|s| s.to_string()).collect();
    let id = store.start_patrol(&planned)?;
    let mut check_in = None;
    let mut delivered = 0u64;
    let mut interval_s = 1u32;
    let mut last_delivered_ms: Option<i64> = None;
    let mut transitions = Vec::new();
    for (fix, _truth) in &walk {
        let t = fix.time_ms.unwrap_or_default();
        // The phone follows the core's advice: while standing, it samples less often.
        if last_delivered_ms.is_some_and(|last| t - last < interval_s as i64 * 1000) {
            continue;
        }
        last_delivered_ms = Some(t);
        let out = store.add_fix(id, fix.clone())?;
        delivered += 1;
        // Halfway up 八角西街 the chief scans its signboard: proof of presence.
        if check_in.is_none() && fix.lat >= 39.9075 {
            check_in = store.scan_signboard(&board.link, None)?.check_in;
        }
        if out.sampling.changed {
            interval_s = out.sampling.interval_s;
            transitions.push((t - start_ms, out.sampling.motion, interval_s));
        }
    }
    let stats = store.stop_patrol(id)?;
    let coverage = store.patrol_coverage(id)?;
    let issue = report_during_patrol(&mut store, &walk)?;
    let assessment = assess_the_day(&store, &me.user_id.to_string(), store.patrol(id)?.started_at_ms)?;
    let planned_m = route_length_m(&route);
    let saved = walk.len() as u64 - delivered;

    if let Some(out) = &args.geojson {
        let props = json!({ "patrol_id": id, "chief": me.name, "distance_m": stats.distance_m });
        let doc = track_geojson(props, &store.fixes(id)?, patrol_core::Datum::Wgs84, ExportFixes::All);
        std::fs::write(out, serde_json::to_vec_pretty(&doc)?)?;
    }

    if ctx.json {
        ctx.print_json(&json!({
            "chief": me.name,
            "patrol_id": id,
            "streets": street_names,
            "route_length_m": planned_m,
            "fixes_offered": walk.len(),
            "fixes_recorded": delivered,
            "sampling_changes": transitions.iter().map(|(t, m, i)| json!({"at_s": t / 1000, "motion": m, "interval_s": i})).collect::<Vec<_>>(),
            "stats": stats,
            "network": { "streets": network.streets, "segments": network.segments, "total_length_m": network.total_length_m },
            "check_in": check_in,
            "coverage": {
                "streets": coverage.streets.iter().map(|s| json!({
                    "street_id": s.street_id, "name": s.name, "length_m": s.length_m,
                    "covered_m": s.covered_m, "covered_ratio": s.covered_ratio, "time_s": s.time_s,
                })).collect::<Vec<_>>(),
                "totals": coverage.totals,
                "visited_unassigned": coverage.visited_unassigned.iter().map(|s| &s.name).collect::<Vec<_>>(),
            },
            "issue": issue,
            "assessment": assessment.as_ref().map(|(day, c)| json!({ "period": day, "chief": c })),
        }))?;
    } else {
        println!("StreetPatrol demo: a street chief's patrol in 八角 subdistrict\n");
        println!("Chief {} ({}), device {}", me.name, me.role, me.device_id);
        println!("Streets to patrol: {}", street_names.join(", "));
        println!(
            "Street network: {} streets in {} segments, {}, all assigned to {}",
            network.streets,
            network.segments,
            metres(network.total_length_m),
            me.name
        );
        println!("Planned route: {}\n", metres(planned_m));
        println!("Patrol {id}");
        for (t, motion, interval) in &transitions {
            let what = match motion {
                Motion::Stationary => "standing still: the phone samples every",
                Motion::Moving => "walking again: the phone samples every",
            };
            println!("  +{:>8}  {what} {interval} s", duration(*t as f64 / 1000.0));
        }
        println!();
        println!("  walked          {}", metres(stats.distance_m));
        println!("  raw GPS length  {} (before filtering)", metres(stats.raw_distance_m));
        println!("  time            {} ({} moving)", duration(stats.duration_s), duration(stats.moving_s));
        println!("  fixes           {} recorded, {} kept, {} not needed while standing", delivered, stats.fixes_kept, saved);
        let rejected: Vec<String> = stats
            .rejected
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
            .collect();
        if !rejected.is_empty() {
            println!("  filtered out    {}", rejected.join(", "));
        }
        println!("  map line        {} points after simplification (5 m)", stats.simplified_points);
        if let Some(c) = &check_in {
            let at = c.distance_to_signboard_m.map(|d| format!(", {d:.0} m from it")).unwrap_or_default();
            println!("  check-in        signboard of {}{at}", street_names[0]);
        }
        println!("\nCoverage of the assigned streets");
        for s in &coverage.streets {
            println!(
                "  {:<10} {:>9} of {:>9}  {:>5.1} %  {}",
                s.name.as_deref().unwrap_or("unnamed"),
                metres(s.covered_m),
                metres(s.length_m),
                s.covered_ratio * 100.0,
                duration(s.time_s)
            );
        }
        let t = &coverage.totals;
        println!("  {:<10} {:>9} of {:>9}  {:>5.1} %", "total", metres(t.covered_m), metres(t.length_m), t.covered_ratio * 100.0);
        let kept_share = stats.fixes_kept as f64 / delivered.max(1) as f64 * 100.0;
        println!(
            "  issue reported  {} ({}) where the chief stopped, due in {} h",
            issue.id,
            issue.category,
            (issue.due_at_ms - issue.reported_at_ms) / 3_600_000
        );
        if let Some(a) = &assessment {
            println!("\nAssessment of {} for {} (default rules): {} of {} points", me.name, a.0, a.1.score, a.1.max_score);
            for l in &a.1.explanation {
                println!("  {:>6}  {:<44} {}", l.points, l.label, l.detail);
            }
        }
        println!("\nEvery fix is in the store, kept ({kept_share:.1} %) or with the reason it was set aside.");
        if ctx.db.is_some() {
            println!("Store: {}", path.display());
        }
    }
    store.close()?;
    Ok(())
}

/// The chief found an overflowing bin along the way and reported it on the spot (it goes round the loop from there: `patrol issue assign ...`).
fn report_during_patrol(
    store: &mut Store,
    walk: &[(patrol_core::NewFix, patrol_core::sim::TruePosition)],
) -> Result<patrol_core::issues::IssueView> {
    let here = &walk[walk.len() * 2 / 3].1;
    let mut new = patrol_core::issues::NewIssue::at("overflowing_bin", here.lat, here.lon);
    new.description = "商户门前垃圾桶满溢".into();
    Ok(store.report_issue(new)?.issue)
}

/// What a supervisor would see of this chief for the day of the patrol: the assessment, line
/// by line (the same report `patrol report assessment` prints for every chief).
fn assess_the_day(
    store: &Store,
    chief: &str,
    day_ms: i64,
) -> Result<Option<(String, patrol_core::report::ChiefAssessment)>> {
    let day = patrol_core::report::period::beijing_date_text(day_ms);
    let period = patrol_core::report::Period::parse(&day)?;
    let report = store.assessment_report(&period, &patrol_core::report::ReportRules::default())?;
    Ok(report.chiefs.into_iter().find(|c| c.person.user_id == chief).map(|c| (day, c)))
}
