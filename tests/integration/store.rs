//! The store suite: every case runs on SQLite and on PostgreSQL.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use trygg_core::access::View;
use trygg_core::attrs::{Attributes, MeasureStatus};
use trygg_core::query::ListQuery;
use trygg_core::{Kind, NewFeature};
use trygg_store::{Actor, Error};

/// The store suite reads as Trygg itself does: every partner's records.
const ALL: View = View::everything();
use trygg_tests::{linkoping, on_both_backends, point, square};

fn nf(kind: Kind, body: &Value) -> NewFeature {
    NewFeature::parse(kind, body, &linkoping(), Utc::now()).expect("valid test feature")
}

fn incident(
    lon: f64,
    lat: f64,
    category: &str,
    days_ago: i64,
    source_id: Option<&str>,
) -> NewFeature {
    let t = Utc::now() - Duration::days(days_ago);
    let mut props = json!({ "category": category, "occurred_at": t, "source": "test" });
    if let Some(id) = source_id {
        props["source_id"] = json!(id);
    }
    nf(Kind::Incident, &point(lon, lat, props))
}

fn measure(status: &str, status_date: chrono::DateTime<Utc>) -> NewFeature {
    nf(
        Kind::Measure,
        &point(
            15.62,
            58.41,
            json!({ "kind": "lighting", "title": "Belysning i gångtunneln", "status": status, "status_date": status_date }),
        ),
    )
}

fn query(kind: Kind, params: &[(&str, &str)]) -> ListQuery {
    let p: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ListQuery::parse(kind, &p).expect("valid query")
}

on_both_backends! {
    async fn a_created_feature_reads_back_unchanged(store) {
        let input = incident(15.6214, 58.4108, "theft", 3, None);
        let created = store.create(&input, &Actor::system("test"), Utc::now()).await.unwrap();
        assert!(created.created);
        let read = store.get(Kind::Incident, created.feature.id, &ALL).await.unwrap();
        assert_eq!(read.attributes, input.attributes);
        assert_eq!(read.version, 1);
        assert_eq!(read.to_geojson(), created.feature.to_geojson());
    }
}

on_both_backends! {
    async fn every_kind_round_trips(store) {
        let now = Utc::now();
        let bodies = [
            (Kind::Report, point(15.60, 58.40, json!({ "reasons": ["lighting", "people"], "source": "safety_walk", "reported_at": now, "respondent": {"gender": "woman", "age_band": "16-24"}, "scores": {"overall": 2} }))),
            (Kind::Presence, trygg_tests::feature(json!({"type": "LineString", "coordinates": [[15.60, 58.40], [15.61, 58.405]]}), json!({ "unit_type": "night_walkers", "started_at": now - Duration::minutes(30), "ended_at": now, "client_id": "phone-1-abc" }))),
            (Kind::Measure, trygg_tests::feature(square(15.62, 58.41, 60.0), json!({ "kind": "cleaning", "title": "Städning av parken" }))),
            (Kind::Place, trygg_tests::feature(square(15.625, 58.412, 200.0), json!({ "name": "Stora torget", "active_from": now - Duration::days(30) }))),
            (Kind::Area, trygg_tests::feature(square(15.63, 58.40, 900.0), json!({ "code": "T001", "name": "Testdistrikt" }))),
        ];
        for (kind, body) in bodies {
            let input = nf(kind, &body);
            let created = store.create(&input, &Actor::system("test"), now).await.unwrap();
            let read = store.get(kind, created.feature.id, &ALL).await.unwrap();
            assert_eq!(read.attributes, input.attributes, "{kind}");
            assert_eq!(read.status_history.len(), usize::from(kind == Kind::Measure), "{kind}");
            assert_eq!(store.count(kind).await.unwrap(), 1, "{kind}");
        }
    }
}

on_both_backends! {
    async fn a_retried_upload_returns_the_first_record(store) {
        let now = Utc::now();
        let body = point(15.61, 58.41, json!({ "unit_type": "police", "started_at": now - Duration::minutes(12), "ended_at": now, "client_id": "retry-me-1" }));
        let first = store.create(&nf(Kind::Presence, &body), &Actor::system("test"), now).await.unwrap();
        let second = store.create(&nf(Kind::Presence, &body), &Actor::system("test"), now).await.unwrap();
        assert!(first.created);
        assert!(!second.created);
        assert_eq!(first.feature.id, second.feature.id);
        assert_eq!(store.count(Kind::Presence).await.unwrap(), 1);
    }
}

on_both_backends! {
    async fn a_client_id_is_an_idempotency_key_of_one_organisation_on_every_write_path(store) {
        let now = Utc::now();
        let mut actors = Vec::new();
        for name in ["Kommunen", "Polisen"] {
            let org = store.create_organisation(name, &Actor::system("test"), now).await.unwrap();
            actors.push(Actor { user_id: None, username: name.into(), organisation_id: Some(org.id) });
        }
        let log = |lon: f64| nf(Kind::Presence, &point(lon, 58.41, json!({ "unit_type": "police", "started_at": now - Duration::minutes(12), "ended_at": now, "client_id": "phone-1" })));
        let a = store.create(&log(15.61), &actors[0], now).await.unwrap();
        let b = store.create(&log(15.62), &actors[1], now).await.unwrap();
        assert!(a.created && b.created, "each partner's first upload is a record of its own");
        assert_ne!(a.feature.id, b.feature.id);
        assert_eq!(b.feature.organisation_id, actors[1].organisation_id);
        // An import by a third writer (Trygg itself) neither updates nor
        // returns either partner's record.
        let imported = store.import(&[log(15.63)], &Actor::system("import"), now).await.unwrap();
        assert_eq!((imported.inserted, imported.updated), (1, 0));
        let again = store.import(&[log(15.64)], &actors[1], now).await.unwrap();
        assert_eq!((again.inserted, again.updated), (0, 1), "the importer's own record is the one updated");
        assert_eq!(store.get(Kind::Presence, a.feature.id, &ALL).await.unwrap().geometry, a.feature.geometry);
        assert_eq!(store.count(Kind::Presence).await.unwrap(), 3);
    }
}

on_both_backends! {
    async fn a_repeated_source_id_is_a_conflict_on_create(store) {
        store.create(&incident(15.62, 58.41, "theft", 1, Some("ext-1")), &Actor::system("test"), Utc::now()).await.unwrap();
        let err = store.create(&incident(15.63, 58.41, "theft", 1, Some("ext-1")), &Actor::system("test"), Utc::now()).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { ref field, .. } if field == "properties.source_id"), "{err:?}");
        assert_eq!(store.count(Kind::Incident).await.unwrap(), 1);
    }
}

on_both_backends! {
    async fn reimporting_the_same_file_changes_nothing(store) {
        let batch: Vec<NewFeature> = (0..20)
            .map(|i| incident(15.60 + f64::from(i) * 0.002, 58.41, "vandalism", i64::from(i), Some(&format!("row-{i}"))))
            .collect();
        let first = store.import(&batch, &Actor::system("test"), Utc::now()).await.unwrap();
        assert_eq!((first.inserted, first.updated, first.unchanged), (20, 0, 0));
        let again = store.import(&batch, &Actor::system("test"), Utc::now()).await.unwrap();
        assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 20));
        let mut changed = batch.clone();
        changed[3] = incident(15.70, 58.42, "robbery", 3, Some("row-3"));
        let third = store.import(&changed, &Actor::system("test"), Utc::now()).await.unwrap();
        assert_eq!((third.inserted, third.updated, third.unchanged), (0, 1, 19));
        assert_eq!(store.count(Kind::Incident).await.unwrap(), 20);
    }
}

on_both_backends! {
    async fn a_failing_import_writes_nothing(store) {
        let t0 = Utc::now() - Duration::days(10);
        let mut done = measure("done", t0);
        if let Attributes::Measure(m) = &mut done.attributes {
            m.client_id = Some("m-1".into());
        }
        store.import(&[done], &Actor::system("test"), Utc::now()).await.unwrap();
        // The same measure re-imported as merely planned: a done measure
        // cannot go back, so the whole batch must be refused.
        let mut back = measure("planned", t0);
        if let Attributes::Measure(m) = &mut back.attributes {
            m.client_id = Some("m-1".into());
        }
        let batch = vec![incident(15.62, 58.41, "theft", 1, Some("a")), back, incident(15.62, 58.41, "theft", 1, Some("b"))];
        let err = store.import(&batch, &Actor::system("test"), Utc::now()).await.unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
        assert_eq!(store.count(Kind::Incident).await.unwrap(), 0);
    }
}

on_both_backends! {
    async fn updates_bump_the_version_and_measures_keep_their_history(store) {
        let t0 = Utc::now() - Duration::days(20);
        let created = store.create(&measure("proposed", t0), &Actor::system("test"), Utc::now()).await.unwrap().feature;
        let planned = store.update(Kind::Measure, created.id, &measure("planned", t0 + Duration::days(2)), Some(1), &Actor::system("test"), Utc::now()).await.unwrap();
        assert_eq!(planned.version, 2);
        let done = store.update(Kind::Measure, created.id, &measure("done", t0 + Duration::days(9)), Some(2), &Actor::system("test"), Utc::now()).await.unwrap();
        let statuses: Vec<MeasureStatus> = done.status_history.iter().map(|c| c.status).collect();
        assert_eq!(statuses, [MeasureStatus::Proposed, MeasureStatus::Planned, MeasureStatus::Done]);
        let read = store.get(Kind::Measure, created.id, &ALL).await.unwrap();
        assert_eq!(read.status_history, done.status_history);
        assert_eq!(read.version, 3);
    }
}

on_both_backends! {
    async fn a_stale_version_or_a_bad_transition_changes_nothing(store) {
        let t0 = Utc::now() - Duration::days(5);
        let created = store.create(&measure("in_progress", t0), &Actor::system("test"), Utc::now()).await.unwrap().feature;
        let stale = store.update(Kind::Measure, created.id, &measure("done", Utc::now()), Some(7), &Actor::system("test"), Utc::now()).await.unwrap_err();
        assert!(matches!(stale, Error::Conflict { ref field, .. } if field == "version"), "{stale:?}");
        let back = store.update(Kind::Measure, created.id, &measure("proposed", Utc::now()), None, &Actor::system("test"), Utc::now()).await.unwrap_err();
        assert!(matches!(back, Error::Invalid(ref e) if e.field() == "properties.status"), "{back:?}");
        let read = store.get(Kind::Measure, created.id, &ALL).await.unwrap();
        assert_eq!(read.version, 1);
        assert_eq!(read.status_history.len(), 1);
    }
}

on_both_backends! {
    async fn deleting_removes_the_feature_and_its_cells(store) {
        let body = trygg_tests::feature(square(15.62, 58.41, 100.0), json!({ "kind": "vegetation", "title": "Röjning" }));
        let created = store.create(&nf(Kind::Measure, &body), &Actor::system("test"), Utc::now()).await.unwrap().feature;
        let rows = store.index_rows(Kind::Measure).await.unwrap();
        assert!(rows[0].cells.len() > 1);
        store.delete(Kind::Measure, created.id, &Actor::system("test"), Utc::now()).await.unwrap();
        assert!(matches!(store.get(Kind::Measure, created.id, &ALL).await, Err(Error::NotFound { .. })));
        assert!(matches!(store.delete(Kind::Measure, created.id, &Actor::system("test"), Utc::now()).await, Err(Error::NotFound { .. })));
        assert!(store.index_rows(Kind::Measure).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn a_feature_of_one_kind_is_not_found_as_another(store) {
        let created = store.create(&incident(15.62, 58.41, "theft", 1, None), &Actor::system("test"), Utc::now()).await.unwrap().feature;
        assert!(matches!(store.get(Kind::Report, created.id, &ALL).await, Err(Error::NotFound { .. })));
        assert!(matches!(store.delete(Kind::Report, created.id, &Actor::system("test"), Utc::now()).await, Err(Error::NotFound { .. })));
    }
}

on_both_backends! {
    async fn lists_filter_by_bbox_time_and_category(store) {
        let batch = vec![
            incident(15.6214, 58.4108, "theft", 10, Some("1")),
            incident(15.6220, 58.4110, "robbery", 40, Some("2")),
            incident(15.5700, 58.4000, "theft", 10, Some("3")),
            incident(15.6230, 58.4100, "theft", 400, Some("4")),
        ];
        store.import(&batch, &Actor::system("test"), Utc::now()).await.unwrap();
        let centre = "15.615,58.405,15.630,58.415";
        assert_eq!(store.list(Kind::Incident, &query(Kind::Incident, &[("bbox", centre)]), &ALL).await.unwrap().features.len(), 3);
        let since = (Utc::now() - Duration::days(60)).to_rfc3339();
        let window = format!("{since}/..");
        let page = store.list(Kind::Incident, &query(Kind::Incident, &[("bbox", centre), ("datetime", &window)]), &ALL).await.unwrap();
        assert_eq!(page.features.len(), 2);
        let page = store
            .list(Kind::Incident, &query(Kind::Incident, &[("bbox", centre), ("datetime", &window), ("category", "robbery")]), &ALL)
            .await
            .unwrap();
        assert_eq!(page.features.len(), 1);
        let upto = format!("../{}", (Utc::now() - Duration::days(365)).to_rfc3339());
        assert_eq!(store.list(Kind::Incident, &query(Kind::Incident, &[("datetime", &upto)]), &ALL).await.unwrap().features.len(), 1);
    }
}

on_both_backends! {
    async fn paging_visits_every_feature_exactly_once(store) {
        let batch: Vec<NewFeature> = (0..25).map(|i| incident(15.60, 58.41, "drugs", 1, Some(&i.to_string()))).collect();
        store.import(&batch, &Actor::system("test"), Utc::now()).await.unwrap();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut params = vec![("limit", "10")];
            if let Some(a) = &after {
                params.push(("after", a.as_str()));
            }
            let page = store.list(Kind::Incident, &query(Kind::Incident, &params), &ALL).await.unwrap();
            seen.extend(page.features.iter().map(|f| f.id));
            match page.next_after {
                Some(next) => after = Some(next.to_string()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (25, 25));
    }
}

on_both_backends! {
    async fn open_presence_and_measures_match_any_later_window(store) {
        let now = Utc::now();
        let open = point(15.61, 58.41, json!({ "unit_type": "security_guard", "started_at": now - Duration::days(3) }));
        store.create(&nf(Kind::Presence, &open), &Actor::system("test"), now).await.unwrap();
        let w = format!("{}/..", (now - Duration::hours(1)).to_rfc3339());
        assert_eq!(store.list(Kind::Presence, &query(Kind::Presence, &[("datetime", &w)]), &ALL).await.unwrap().features.len(), 1);
        let rows = store.index_rows(Kind::Presence).await.unwrap();
        assert_eq!(rows[0].t_end, None);
    }
}

on_both_backends! {
    async fn reports_filter_by_any_of_their_reasons_and_by_status(store) {
        let now = Utc::now();
        for (reasons, status) in [(json!(["lighting", "people"]), "approved"), (json!(["vegetation"]), "approved"), (json!(["people"]), "pending")] {
            let body = point(15.62, 58.41, json!({ "reasons": reasons, "source": "survey", "reported_at": now, "status": status }));
            store.create(&nf(Kind::Report, &body), &Actor::system("test"), now).await.unwrap();
        }
        let people = store.list(Kind::Report, &query(Kind::Report, &[("reason", "people")]), &ALL).await.unwrap();
        assert_eq!(people.features.len(), 2);
        let approved_people = store.list(Kind::Report, &query(Kind::Report, &[("reason", "people"), ("status", "approved")]), &ALL).await.unwrap();
        assert_eq!(approved_people.features.len(), 1);
    }
}

on_both_backends! {
    async fn a_backup_is_a_consistent_copy_and_never_overwrites(store) {
        store.import(&[incident(15.62, 58.41, "theft", 1, Some("b1"))], &Actor::system("test"), Utc::now()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("backup.db");
        match store.backend() {
            trygg_store::Backend::Sqlite => {
                store.backup_to(&target).await.unwrap();
                let copy = trygg_store::connect(&trygg_store::DatabaseUrl::new(format!("sqlite:{}", target.display()))).await.unwrap();
                assert_eq!(copy.count(Kind::Incident).await.unwrap(), 1);
                assert!(matches!(store.backup_to(&target).await, Err(Error::Config(_))), "an existing file is never overwritten");
            }
            trygg_store::Backend::Postgres => {
                let err = store.backup_to(&target).await.unwrap_err().to_string();
                assert!(err.contains("pg_dump"), "{err}");
            }
        }
    }
}

on_both_backends! {
    async fn a_key_twice_in_one_import_is_one_record(store) {
        let actor = Actor::system("test");
        store.import(&[incident(15.62, 58.41, "theft", 1, Some("dup"))], &actor, Utc::now()).await.unwrap();
        // Stored once; now the file names it twice with new content, and a
        // new key twice too.
        let new = incident(15.62, 58.42, "theft", 2, Some("new"));
        let batch = vec![
            incident(15.63, 58.41, "robbery", 1, Some("dup")),
            incident(15.64, 58.41, "assault", 1, Some("dup")),
            new.clone(),
            new,
        ];
        let s = store.import(&batch, &actor, Utc::now()).await.unwrap();
        assert_eq!((s.inserted, s.updated, s.unchanged), (1, 2, 1));
        assert_eq!(store.count(Kind::Incident).await.unwrap(), 2);
        let page = store.list(Kind::Incident, &query(Kind::Incident, &[("category", "assault")]), &ALL).await.unwrap();
        assert_eq!(page.features.len(), 1, "the last row of a key wins");
    }
}

on_both_backends! {
    async fn what_is_frozen_is_kept_as_first_written_and_never_replaced(store) {
        assert_eq!(store.frozen("groups|2026|k5").await.unwrap(), None);
        let first = store.freeze("groups|2026|k5", r#"{"total":6}"#, Utc::now()).await.unwrap();
        assert_eq!(first.content, r#"{"total":6}"#);
        // A second writer (another instance, a later request) gets the first.
        let again = store.freeze("groups|2026|k5", r#"{"total":7}"#, Utc::now()).await.unwrap();
        assert_eq!(again, first);
        assert_eq!(store.frozen("groups|2026|k5").await.unwrap(), Some(first));
        assert_eq!(store.frozen("groups|2025|k5").await.unwrap(), None);
    }
}
