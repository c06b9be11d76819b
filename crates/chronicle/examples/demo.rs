//! Opens the embedded store (creating it with demo data on first run) and prints the
//! history of one demo practice, as a support person would browse it.
//!
//! Run with: `scripts/run.sh` or `cargo run -p chronicle --example demo -- [sqlite://PATH]`

use chronicle::demo::{DEMO_USERS, DemoOptions};
use chronicle::{Direction, PageRequest, Principal, Store, TimelineFilter};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => chronicle::paths::default_store_url()?,
    };
    let store = Store::open(&url).await?;
    println!(
        "Chronicle store: {} ({})",
        store.location(),
        store.backend_name()
    );
    if store.practices(&Principal::System).await?.is_empty() {
        println!("Empty store: writing demo data (3 practices, 300 events each)…");
        chronicle::demo::seed(&store, &DemoOptions::default()).await?;
    }
    let (user, role, _) = DEMO_USERS[2];
    let me = Principal::user(user);
    let practices = store.practices(&me).await?;
    println!("\n{user} ({role}) can see {} practices:", practices.len());
    for p in &practices {
        println!(
            "  {}  {} events, last at {}",
            p.practice_id,
            p.event_count,
            p.last_event_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        );
    }
    let Some(first) = practices.first() else {
        return Ok(());
    };
    let page = store
        .timeline(
            &me,
            &first.practice_id,
            &TimelineFilter::default(),
            Direction::Backward,
            &PageRequest::first(25),
        )
        .await?;
    println!(
        "\nLatest {} events of practice {}:",
        page.items.len(),
        first.practice_id
    );
    println!(
        "{:>5}  {:<20}  {:<27}  {:<7}  {:<16}  aggregate",
        "seq", "time (UTC)", "event type", "actor", "actor id"
    );
    for e in page.items.iter().rev() {
        println!(
            "{:>5}  {:<20}  {:<27}  {:<7}  {:<16}  {}/{} v{}",
            e.seq,
            e.created_at.format("%Y-%m-%d %H:%M:%S"),
            e.event_type,
            e.actor_type,
            e.actor_id.as_deref().unwrap_or("-"),
            e.aggregate_type,
            e.aggregate_id,
            e.version
        );
    }
    let report = store.verify_chain(&me, &first.practice_id).await?;
    println!(
        "\nHash chain: {} events checked, {}; head {}",
        report.events_checked,
        if report.is_intact() {
            "intact"
        } else {
            "BROKEN"
        },
        report.head_hash
    );
    Ok(())
}
